// Test support: a moto server of our own (one per suite: moto keeps state per process).
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { createServer } from "node:net";

/** moto_server is on this machine (CI has it: a missing moto fails there rather than skipping). */
export const motoAvailable = (() => {
  try {
    execFileSync("sh", ["-c", "command -v moto_server"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();
export const skipWithoutMoto = !motoAvailable && process.env.CI !== "true";

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on("error", reject);
  });
}

export interface Moto {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts moto_server on a free port, Lambda in its no-docker mode (Invoke returns queued payloads). */
export async function startMoto(): Promise<Moto> {
  const port = await freePort();
  const child: ChildProcess = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], {
    env: { ...process.env, MOTO_PORT: String(port) },
    stdio: "ignore",
  });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${endpoint}/moto-api/config`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (i > 100) throw new Error("moto_server did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
  await fetch(`${endpoint}/moto-api/config`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ lambda: { use_docker: false } }),
  });
  return {
    endpoint,
    stop: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

/** SDK client options for moto. */
export const motoClientConfig = (endpoint: string) => ({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
});

/** Creates an IAM role in moto (its Lambda refuses a role that does not exist); no IAM client is installed. */
export async function motoRole(endpoint: string, name: string): Promise<string> {
  const body = new URLSearchParams({
    Action: "CreateRole",
    Version: "2010-05-08",
    RoleName: name,
    AssumeRolePolicyDocument: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
  });
  const res = await fetch(endpoint, {
    method: "POST",
    // moto routes by the service in the credential scope.
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      authorization:
        "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0",
    },
    body,
  });
  const arn = /<Arn>([^<]+)<\/Arn>/.exec(await res.text())?.[1];
  if (!arn) throw new Error("moto did not create the role");
  return arn;
}

/** Queues what moto's Lambda returns for the next Invoke calls (it runs no code without docker). */
export async function motoLambdaResults(endpoint: string, results: unknown[]): Promise<void> {
  await fetch(`${endpoint}/moto-api/static/lambda-simple/response`, {
    method: "POST",
    body: JSON.stringify({ results: results.map((r) => JSON.stringify(r)), region: "us-east-1" }),
  });
}
