#!/usr/bin/env sh
# Builds a tiny local image from the host's static busybox, without a registry:
#   examples/containers/build-busybox-image.sh [localhost/stepwise-busybox:1]
# Needs podman (or docker: STEPWISE_CONTAINER_RUNTIME=docker) and busybox-static (`apt-get install -y busybox-static`).
set -eu
tag="${1:-localhost/stepwise-busybox:1}"
runtime="${STEPWISE_CONTAINER_RUNTIME:-podman}"
busybox="$(command -v busybox)"
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/rootfs/bin" "$root/rootfs/tmp" "$root/rootfs/etc"
cp "$busybox" "$root/rootfs/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$root/rootfs/bin/$applet"
done
echo "root:x:0:0:root:/root:/bin/sh" > "$root/rootfs/etc/passwd"
tar -C "$root/rootfs" -cf "$root/image.tar" .
quiet=""; [ "$(basename "$runtime")" = podman ] && quiet="--quiet"
"$runtime" import $quiet --change 'ENV PATH=/bin' --change 'CMD ["/bin/sh"]' "$root/image.tar" "$tag" >/dev/null
"$runtime" image inspect --format '{{.Digest}}' "$tag"
