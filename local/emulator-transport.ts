import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import dynalite from "dynalite";
import S3rver from "s3rver";
import type { AwsEndpoint } from "../shared/adapters/aws-clients.ts";
import { InProcessHttpHandler, type RequestListener } from "../shared/adapters/in-process-http.ts";

/**
 * How the embedded stack's SDK clients reach DynamoDB (dynalite) and S3 (s3rver):
 * - "in-process" (default): each request goes straight to the emulator's request listener in this process (no
 *   socket, no HTTP parsing), through the same SDK clients, serializers and SigV4 signing;
 * - "tcp": over HTTP to 127.0.0.1, as any other client of the emulators.
 * The emulators listen on a loopback port either way (their own shutdown waits on that server).
 */
export type EmulatorTransport = "in-process" | "tcp";

export interface Emulators {
  dynamo: AwsEndpoint & { endpoint: string };
  s3: AwsEndpoint & { endpoint: string };
  close(): Promise<void>;
}

/** The request listener a Node HTTP server was created with (dynalite registers exactly one). */
function listenerOf(server: Server): RequestListener {
  const [listener] = server.listeners("request");
  if (typeof listener !== "function") throw new Error("the DynamoDB emulator has no request listener");
  return (req, res) => void listener.call(server, req, res);
}

/** Starts dynalite and s3rver on loopback ports under `dataDir`, and says how clients reach them. */
export async function startEmulators(dataDir: string, transport: EmulatorTransport): Promise<Emulators> {
  const dyn = dynalite({ path: join(dataDir, "dynamodb"), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((res) => dyn.listen(0, "127.0.0.1", () => res()));
  const s3 = new S3rver({ port: 0, address: "127.0.0.1", silent: true, directory: join(dataDir, "s3") });
  const s3Info = (await s3.run()) as AddressInfo;
  const inProcess = transport === "in-process";
  return {
    dynamo: {
      endpoint: `http://127.0.0.1:${(dyn.address() as AddressInfo).port}`,
      ...(inProcess ? { requestHandler: new InProcessHttpHandler(listenerOf(dyn)) } : {}),
    },
    s3: {
      endpoint: `http://127.0.0.1:${s3Info.port}`,
      ...(inProcess ? { requestHandler: new InProcessHttpHandler(s3.callback()) } : {}),
    },
    async close() {
      await s3.close();
      await new Promise<void>((res) => dyn.close(() => res()));
    },
  };
}
