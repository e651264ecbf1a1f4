// Test support: a real local HTTP endpoint for outbound deliveries, recording what it is sent and answering 200.
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import type { Json } from "./stack.ts";

/** One request the receiver got: where it was sent, its headers, its raw body and that body parsed. */
export interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  event: Json;
}

export interface Receiver {
  /** The base URL (`http://127.0.0.1:<port>`); any path under it is accepted. */
  url: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/** Starts a receiver on a free local port that appends every request to `received` and answers 200 `{}`. */
export async function startReceiver(received: Received[]): Promise<Receiver> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      received.push({ path: req.url ?? "/", headers: req.headers, body, event: JSON.parse(body) });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
