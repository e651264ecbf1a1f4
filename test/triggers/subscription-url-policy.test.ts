// Where subscriptions may send events: never link-local or cloud metadata addresses (also when a name resolves to
// one at delivery time); private ranges only where allowed (embedded mode; a cloud deployment that opts in).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { setLocalTriggerOptions } from "../../local/local-triggers.ts";
import { isLinkLocal, refusedUrl, systemResolver, type UrlPolicy } from "../../shared/triggers/url-policy.ts";
import { commandWorkflow, type Json, startStack, type TestStack } from "../support/stack.ts";

const CLOUD: UrlPolicy = { allowHttp: false, allowPrivate: false };
const CLOUD_PRIVATE_ALLOWED: UrlPolicy = { allowHttp: false, allowPrivate: true };
const EMBEDDED: UrlPolicy = { allowHttp: true, allowPrivate: true };

describe("the URL policy", () => {
  it("refuses link-local and metadata addresses under every policy", () => {
    for (const url of [
      "https://169.254.169.254/latest/meta-data/",
      "http://169.254.1.1:8080/",
      "https://[fd00:ec2::254]/",
      "https://[fe80::1]/",
      "https://[::ffff:169.254.169.254]/",
      "https://metadata.google.internal/computeMetadata/v1/",
    ]) {
      for (const policy of [CLOUD, CLOUD_PRIVATE_ALLOWED, EMBEDDED])
        expect(refusedUrl(url, policy), url).not.toBeNull();
    }
    expect(isLinkLocal("169.254.0.1")).toBe(true);
    expect(isLinkLocal("169.255.0.1")).toBe(false);
  });

  it("refuses private ranges and plain http in the cloud unless allowed; embedded allows loopback http", () => {
    for (const url of [
      "https://10.0.0.5/",
      "https://172.16.0.1/",
      "https://192.168.1.10/",
      "https://127.0.0.1/",
      "https://100.64.0.1/",
      "https://[::1]/",
      "https://[fd12:3456::1]/",
      "https://localhost/",
      "https://db.internal/",
    ]) {
      expect(refusedUrl(url, CLOUD), url).toMatch(/private or loopback/);
      expect(refusedUrl(url, CLOUD_PRIVATE_ALLOWED), url).toBeNull();
    }
    expect(refusedUrl("http://hooks.example.com/", CLOUD)).toBe("url must be https");
    expect(refusedUrl("https://hooks.example.com/", CLOUD)).toBeNull();
    expect(refusedUrl("http://127.0.0.1:8080/dev", EMBEDDED)).toBeNull();
    expect(refusedUrl("http://localhost:8080/dev", EMBEDDED)).toBeNull();
  });
});

describe("subscriptions on the embedded stack", () => {
  let s: TestStack;
  // A resolver the test can re-point: no host name on this machine resolves to 169.254.0.0/16, and /etc/hosts is
  // shared with other work, so a name pointed at the metadata address after it was saved (DNS rebinding) is staged
  // here. Every other name goes to the system resolver.
  const names = new Map<string, string[]>();

  beforeAll(async () => {
    setLocalTriggerOptions({
      delivery: { baseDelayMs: 20, maxDelayMs: 50, timeoutMs: 2000, maxAttempts: 2 },
      resolveHost: async (host) => names.get(host) ?? systemResolver(host),
    });
    s = await startStack();
    await s.putWorkflow(commandWorkflow("ping", "echo ping"));
  });
  afterAll(async () => {
    await s?.stop();
  });

  const put = (name: string, url: string) =>
    s.api(`/api/subscriptions/${name}`, { method: "PUT", body: { url, events: ["run.succeeded"] } });

  it("answers 400 naming url for a metadata or link-local receiver, literal or by name", async () => {
    names.set("metadata.example.test", ["169.254.169.254"]);
    for (const url of [
      "http://169.254.169.254/latest/meta-data/iam/",
      "http://[fd00:ec2::254]/",
      "http://[::ffff:a9fe:a9fe]/",
      "http://metadata.example.test/",
    ]) {
      const res = await put("meta", url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe("validation_failed");
      expect(res.body.error.details[0].path, url).toBe("url");
    }
    // Loopback http stays allowed for development.
    expect((await put("dev", "http://127.0.0.1:9/hook")).status).toBe(201);
    expect((await s.api("/api/subscriptions/dev", { method: "DELETE" })).status).toBe(204);
  });

  it("refuses to send when the receiver's name resolves to the metadata address at delivery time", async () => {
    names.set("receiver.example.test", ["127.0.0.1"]);
    expect((await put("rebound", "http://receiver.example.test:9/hook")).status).toBe(201);
    names.set("receiver.example.test", ["169.254.169.254"]);
    await s.waitForRun(await s.trigger("ping"));
    const delivery: Json = await s.waitFor("the refused delivery", async () => {
      const items = (await s.json("/api/subscriptions/rebound/deliveries")).items as Json[];
      return items.find((d) => d.status === "failed") ?? null;
    });
    expect(delivery.responseStatus).toBeNull();
    expect(delivery.lastError).toBe(
      "not sent: url's host receiver.example.test resolves to 169.254.169.254 is a link-local or cloud metadata address",
    );
    expect(delivery.attemptLog.every((a: Json) => a.statusCode === null && a.error.startsWith("not sent"))).toBe(true);
  });
});
