// Stepwise stage container (no dependencies: Node's fetch and fs only).
//   stage.mjs in   fetches $STEPWISE_STAGE_IN_URL, a manifest {context, files: [{path, sha256, url}]}, and places
//                  each input under /stepwise/in, checked against its recorded hash, plus the context and an
//                  empty $STEPWISE_OUTPUT under /run/stepwise.
//   stage.mjs out  reads the user's container exit code from the ECS task metadata endpoint and PUTs a tar of
//                  out/ (as out/<path>), the output file and a result.json to $STEPWISE_STAGE_OUT_URL.
import { createHash } from "node:crypto";
import { chmod, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";

const WORK = process.env.STEPWISE_WORK_DIR ?? "/stepwise";
const META = process.env.STEPWISE_META_DIR ?? "/run/stepwise";
const TASK_CONTAINER = "task";

const sha256 = (bytes) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;

async function stageIn() {
  const res = await fetch(process.env.STEPWISE_STAGE_IN_URL);
  if (!res.ok) throw new Error(`stage-in manifest: HTTP ${res.status}`);
  const manifest = await res.json();
  await mkdir(join(WORK, "in"), { recursive: true });
  await mkdir(join(WORK, "out"), { recursive: true });
  await mkdir(META, { recursive: true });
  for (const file of manifest.files ?? []) {
    const target = join(WORK, "in", file.path);
    if (!target.startsWith(join(WORK, "in") + "/")) throw new Error(`input path escapes in/: ${file.path}`);
    const got = await fetch(file.url);
    if (!got.ok) throw new Error(`input ${file.path}: HTTP ${got.status}`);
    const bytes = Buffer.from(await got.arrayBuffer());
    if (sha256(bytes) !== file.sha256)
      throw new Error(`input ${file.path} does not match its recorded hash ${file.sha256}`);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, bytes);
  }
  await writeFile(join(META, "context.json"), JSON.stringify(manifest.context ?? {}));
  await writeFile(join(META, "output.env"), "");
  // The user's image may run as any user: it must still write out/ and $STEPWISE_OUTPUT.
  await chmod(join(WORK, "out"), 0o777);
  await chmod(META, 0o777);
  await chmod(join(META, "output.env"), 0o666);
  console.log(`stage-in: placed ${(manifest.files ?? []).length} input file(s)`);
}

/** One ustar header + the content padded to 512 bytes. */
function tarEntry(name, bytes) {
  const header = Buffer.alloc(512);
  let prefix = "";
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf("/", 154);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
  }
  header.write(base, 0, 100);
  header.write("0000644\0", 100);
  header.write("0000000\0", 108);
  header.write("0000000\0", 116);
  header.write(`${bytes.length.toString(8).padStart(11, "0")}\0`, 124);
  header.write("00000000000\0", 136);
  header.write("        ", 148);
  header.write("0", 156);
  header.write("ustar\0", 257);
  header.write("00", 263);
  header.write(prefix, 345, 155);
  let sum = 0;
  for (const b of header) sum += b;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148);
  const pad = Buffer.alloc((512 - (bytes.length % 512)) % 512);
  return [header, bytes, pad];
}

async function filesUnder(dir) {
  const out = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out.sort();
}

async function stageOut() {
  const meta = await fetch(`${process.env.ECS_CONTAINER_METADATA_URI_V4}/task`).then((r) => r.json());
  const user = (meta.Containers ?? []).find((c) => c.Name === TASK_CONTAINER);
  const result = {
    exitCode: typeof user?.ExitCode === "number" ? user.ExitCode : null,
    imageDigest: user?.ImageID ?? null,
    taskArn: meta.TaskARN ?? null,
    availabilityZone: meta.AvailabilityZone ?? null,
  };
  const parts = [];
  for (const file of await filesUnder(join(WORK, "out"))) {
    if ((await stat(file)).size > 5 * 1024 ** 3) throw new Error(`${file} is over 5 GiB (one PUT)`);
    parts.push(...tarEntry(`out/${relative(join(WORK, "out"), file)}`, await readFile(file)));
  }
  parts.push(...tarEntry("output.env", await readFile(join(META, "output.env")).catch(() => Buffer.alloc(0))));
  parts.push(...tarEntry("result.json", Buffer.from(JSON.stringify(result))));
  parts.push(Buffer.alloc(1024));
  const body = Buffer.concat(parts);
  const res = await fetch(process.env.STEPWISE_STAGE_OUT_URL, { method: "PUT", body });
  if (!res.ok) throw new Error(`stage-out upload: HTTP ${res.status}`);
  console.log(`stage-out: exit code ${result.exitCode}, ${body.length} bytes uploaded`);
}

const step = process.argv[2];
try {
  if (step === "in") await stageIn();
  else if (step === "out") await stageOut();
  else throw new Error(`usage: stage.mjs in|out (got ${step})`);
} catch (err) {
  console.error(`stage-${step}: ${err.message}`);
  process.exit(1);
}
