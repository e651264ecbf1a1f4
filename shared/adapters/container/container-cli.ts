import { type ChildProcess, execFile, spawn } from "node:child_process";
import { access, constants } from "node:fs/promises";
import { basename, delimiter, join } from "node:path";
import { TaskFailureError } from "../../errors.ts";

/** A task failure with a code the task's error keeps (the engine records `code` as the error code). */
export class TaskFailure extends TaskFailureError {
  override readonly name: string = "TaskFailure";
  override readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message);
    this.code = code;
    if (options) this.cause = options.cause;
  }
}

/** No podman or docker on this machine (or the one chosen is missing). */
export class ContainerRuntimeUnavailableError extends TaskFailure {
  constructor(message: string) {
    super("container_runtime_unavailable", message);
  }
}

export const RUNTIME_INSTALL_HINT =
  "install podman (Debian/Ubuntu: `apt-get install -y podman runc`; macOS: `brew install podman && podman machine init && podman machine start`) or docker, or set STEPWISE_CONTAINER_RUNTIME to the path of one";

/** Labels every Stepwise container carries, so a restarted server finds what its predecessor left running. */
export const LABELS = {
  org: "stepwise.org",
  run: "stepwise.run",
  node: "stepwise.node",
  attempt: "stepwise.attempt",
  /** The server that started it (a hash of its data dir): a restart recovers its own containers, never another's. */
  instance: "stepwise.instance",
} as const;

export interface ContainerRuntimeChoice {
  /** `podman`, `docker`, or a path to either; unset = the first of podman, docker found on PATH. */
  choice?: string;
  /** The PATH to search. */
  path: string;
  /** The environment the CLI runs with (CONTAINERS_CONF, DOCKER_HOST, XDG_RUNTIME_DIR…); never reaches a container. */
  env: Record<string, string | undefined>;
}

async function executable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function which(name: string, path: string): Promise<string | null> {
  if (name.includes("/")) return (await executable(name)) ? name : null;
  for (const dir of path.split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await executable(candidate)) return candidate;
  }
  return null;
}

/** Finds the container CLI to use; throws ContainerRuntimeUnavailableError saying how to install one. */
export async function findContainerRuntime(opts: ContainerRuntimeChoice): Promise<ContainerCli> {
  const wanted = opts.choice ? [opts.choice] : ["podman", "docker"];
  for (const name of wanted) {
    const bin = await which(name, opts.path);
    if (bin) return new ContainerCli(bin, opts.env);
  }
  const what = opts.choice ? `the container runtime '${opts.choice}' (STEPWISE_CONTAINER_RUNTIME)` : "podman or docker";
  throw new ContainerRuntimeUnavailableError(`${what} was not found on this machine: ${RUNTIME_INSTALL_HINT}`);
}

/** What one container attempt runs. */
export interface ContainerRunSpec {
  /** Unique per attempt: the name is how stop and remove find it. */
  name: string;
  /** The pinned reference (`repo@sha256:…`) or image id to run. */
  image: string;
  command?: string[];
  env: Record<string, string>;
  labels: Record<string, string>;
  /** host path → container path */
  mounts: Array<{ host: string; container: string; readOnly?: boolean }>;
  workdir: string;
  cpu?: number;
  memoryMiB?: number;
}

export interface ImageIdentity {
  /** The manifest digest, `sha256:…`. */
  digest: string;
  /** A reference that runs exactly that image (`repo@sha256:…`). */
  pinned: string;
}

const MAX_BUFFER = 16 * 1024 * 1024;

/** Drives podman or docker through its CLI (both take the same flags for what Stepwise uses). */
export class ContainerCli {
  constructor(
    readonly bin: string,
    private readonly env: Record<string, string | undefined>,
  ) {}

  private exec(args: string[], timeoutMs = 120_000): Promise<{ stdout: string; stderr: string; code: number }> {
    return new Promise((resolve) => {
      execFile(this.bin, args, { env: this.env, maxBuffer: MAX_BUFFER, timeout: timeoutMs }, (err, stdout, stderr) => {
        const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
        resolve({ stdout: String(stdout), stderr: String(stderr), code });
      });
    });
  }

  /** The repository part of a reference (what precedes `:tag` and `@digest`). */
  static repository(ref: string): string {
    const noDigest = ref.split("@")[0] as string;
    const slash = noDigest.lastIndexOf("/");
    const colon = noDigest.lastIndexOf(":");
    return colon > slash ? noDigest.slice(0, colon) : noDigest;
  }

  /** podman reports `Digest`; docker only `RepoDigests` (`repo@sha256:…`), so both are read from the JSON. */
  private async inspectDigest(ref: string): Promise<string | null> {
    const r = await this.exec(["image", "inspect", ref]);
    if (r.code !== 0) return null;
    let info: { Digest?: unknown; RepoDigests?: unknown } | undefined;
    try {
      info = (JSON.parse(r.stdout) as Array<typeof info>)[0];
    } catch {
      return null;
    }
    const isDigest = (d: unknown): d is string => typeof d === "string" && /^sha256:[0-9a-f]{64}$/.test(d);
    if (ref.includes("@") && isDigest(ref.split("@")[1])) return ref.split("@")[1] as string;
    if (isDigest(info?.Digest)) return info.Digest;
    const repo = ContainerCli.repository(ref);
    const repoDigests = Array.isArray(info?.RepoDigests) ? (info.RepoDigests as unknown[]) : [];
    const mine = repoDigests.map(String).find((d) => d.startsWith(`${repo}@`)) ?? repoDigests.map(String)[0];
    const digest = mine?.split("@")[1];
    return isDigest(digest) ? digest : null;
  }

  /**
   * Resolves a reference to the digest it names now, pulling it when it is not on the machine; with `pinnedDigest`
   * (a rerun of a recorded attempt) it resolves `repo@digest` instead, whatever the tag points at today.
   */
  async resolve(ref: string, pinnedDigest?: string): Promise<ImageIdentity> {
    const wanted = pinnedDigest ? `${ContainerCli.repository(ref)}@${pinnedDigest}` : ref;
    let digest = await this.inspectDigest(wanted);
    if (!digest) {
      const pulled = await this.exec(["pull", "--quiet", wanted], 600_000);
      if (pulled.code === 0) digest = await this.inspectDigest(wanted);
      if (!digest) {
        const why = (pulled.stderr.trim().split("\n").pop() ?? "").slice(0, 300);
        throw new TaskFailure(
          "image_not_found",
          `the image '${wanted}' is not on this machine and could not be pulled${why ? `: ${why}` : ""}`,
        );
      }
    }
    if (pinnedDigest && digest !== pinnedDigest)
      throw new TaskFailure("image_not_found", `'${wanted}' resolves to ${digest}, not the recorded ${pinnedDigest}`);
    return { digest, pinned: `${ContainerCli.repository(ref)}@${digest}` };
  }

  /** Arguments of `run` for a spec: nothing from the engine's own environment reaches the container. */
  static runArgs(spec: ContainerRunSpec): string[] {
    const args = ["run", "--name", spec.name, "--workdir", spec.workdir, "--pull", "never"];
    for (const [k, v] of Object.entries(spec.labels)) args.push("--label", `${k}=${v}`);
    for (const m of spec.mounts) args.push("--volume", `${m.host}:${m.container}${m.readOnly ? ":ro" : ""}`);
    for (const [k, v] of Object.entries(spec.env)) args.push("--env", `${k}=${v}`);
    if (spec.cpu) args.push("--cpus", String(spec.cpu / 1024));
    if (spec.memoryMiB) args.push("--memory", `${spec.memoryMiB}m`);
    args.push(spec.image, ...(spec.command ?? []));
    return args;
  }

  /** Starts the container attached: its stdout and stderr are the child's, live. */
  start(spec: ContainerRunSpec): ChildProcess {
    return spawn(this.bin, ContainerCli.runArgs(spec), { env: this.env, stdio: ["ignore", "pipe", "pipe"] });
  }

  /** The exit code the container's main process ended with (null when it never ran or is unknown). */
  async exitCode(name: string): Promise<number | null> {
    const r = await this.exec(["container", "inspect", "--format", "{{.State.ExitCode}}|{{.State.Status}}", name]);
    if (r.code !== 0) return null;
    const [code, status] = r.stdout.trim().split("|");
    if (status === "created" || status === "configured") return null;
    const n = Number(code);
    return Number.isInteger(n) ? n : null;
  }

  /** Stops a container (SIGTERM, then SIGKILL after `graceSeconds`). */
  async stop(name: string, graceSeconds = 2): Promise<void> {
    await this.exec(["stop", "--time", String(graceSeconds), name]);
  }

  /** Removes a container, running or not. */
  async remove(name: string): Promise<void> {
    // podman's rm --force first waits out the stop timeout (10 s); docker's kills at once.
    await this.exec(["rm", "--force", ...(basename(this.bin).startsWith("podman") ? ["--time", "0"] : []), name]);
  }

  /** The containers (running or stopped) that carry a label, with all their labels. */
  async listWithLabel(label: string): Promise<Array<{ name: string; labels: Record<string, string> }>> {
    const r = await this.exec(["ps", "--all", "--format", "{{json .Labels}}|{{.Names}}", "--filter", `label=${label}`]);
    if (r.code !== 0) return [];
    return r.stdout
      .split("\n")
      .filter((l) => l.includes("|"))
      .map((line) => {
        const cut = line.lastIndexOf("|");
        let labels: Record<string, string> = {};
        try {
          labels = (JSON.parse(line.slice(0, cut)) as Record<string, string> | null) ?? {};
        } catch {
          // a runtime that prints labels another way: the name alone still lets the orphan be removed
        }
        return { name: line.slice(cut + 1).trim(), labels };
      });
  }

  /** Names of the containers (running or stopped) carrying every label given. */
  async listByLabels(labels: Record<string, string>): Promise<string[]> {
    const args = ["ps", "--all", "--format", "{{.Names}}"];
    for (const [k, v] of Object.entries(labels)) args.push("--filter", `label=${k}=${v}`);
    const r = await this.exec(args);
    return r.code === 0
      ? r.stdout
          .split("\n")
          .map((l) => l.trim())
          .filter(Boolean)
      : [];
  }
}
