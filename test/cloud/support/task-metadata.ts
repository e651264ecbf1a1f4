// The ECS task metadata endpoint (v4) as the stage-out container reads it: `${ECS_CONTAINER_METADATA_URI_V4}/task`.
// Only ECS's agent serves it inside a running task, so the cloud suite serves the document the test names.
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** Serves `task` (the v4 task metadata document) at `<url>/task` until stopped. */
export async function serveTaskMetadata(
  task: Record<string, unknown>,
): Promise<{ url: string; stop(): Promise<void> }> {
  const server = createServer((req, res) => {
    const found = req.url === "/task";
    res.writeHead(found ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(found ? task : { message: "not found" }));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}
