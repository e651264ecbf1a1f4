// Test support: podman on these machines, and small local images (no registry is reachable here).
import { execFile, execFileSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ContainerCli } from "../../shared/adapters/container/container-cli.ts";

/** podman is on this machine (CI installs it: a missing podman fails there rather than skipping). */
export const podmanAvailable = existsSync("/usr/bin/podman") || existsSync("/usr/local/bin/podman");
/** Skip container suites only outside CI when podman is missing. */
export const skipWithoutPodman = !podmanAvailable && process.env.CI !== "true";

/**
 * Debian's podman 4.3 on these machines starts containers only with runc and lowered ulimits (crun fails on the
 * hybrid cgroups; setrlimit refuses the defaults): a containers.conf says so, named by CONTAINERS_CONF.
 */
export function containersConf(): string {
  const path = join(tmpdir(), "stepwise-test-containers.conf");
  writeFileSync(
    path,
    '[engine]\nruntime = "runc"\n[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n',
  );
  return path;
}

/** The environment the container CLI runs with in tests. */
export function containerEnv(): Record<string, string | undefined> {
  return { ...process.env, CONTAINERS_CONF: containersConf() };
}

/**
 * Builds (or rebuilds) a busybox image under `tag` with the example script; returns its digest. Asynchronous: an
 * embedded server in the test process must keep answering (a blocked event loop resets kept-alive connections).
 */
export async function buildBusyboxImage(tag: string): Promise<string> {
  const { stdout } = await promisify(execFile)("examples/containers/build-busybox-image.sh", [tag], {
    env: containerEnv() as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  return stdout.trim().split("\n").pop() as string;
}

/** A podman CLI configured for these machines. */
export const testCli = (): ContainerCli => new ContainerCli("podman", containerEnv());

/** Names of the containers carrying a label, running or not. */
/** Names of the containers carrying `label` that are running now (started, not just created). */
export function containersRunning(label: string): string[] {
  const out = execFileSync(
    "podman",
    ["ps", "--format", "{{.Names}}", "--filter", `label=${label}`, "--filter", "status=running"],
    { env: containerEnv() as NodeJS.ProcessEnv, encoding: "utf8" },
  );
  return out.split("\n").filter(Boolean);
}

export function containersLabelled(label: string): string[] {
  const out = execFileSync("podman", ["ps", "--all", "--format", "{{.Names}}", "--filter", `label=${label}`], {
    env: containerEnv() as NodeJS.ProcessEnv,
    encoding: "utf8",
  });
  return out.split("\n").filter(Boolean);
}
