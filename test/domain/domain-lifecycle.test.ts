import { describe, expect, it } from "vitest";
import { type AuditEventBody, auditEventHash, GENESIS_HASH, verifyChain } from "../../shared/domain/audit.ts";
import { isoMicro, nowIso, parseIsoMicro } from "../../shared/domain/clock.ts";
import { hashJson } from "../../shared/domain/hash.ts";
import { ID_PATTERN, newId } from "../../shared/domain/ids.ts";
import {
  assertRunTransition,
  assertTaskTransition,
  canRunTransition,
  canTaskTransition,
} from "../../shared/domain/lifecycle.ts";
import { RUN_STATUSES, TASK_STATUSES, TERMINAL_RUN_STATUSES } from "../../shared/domain/records.ts";
import { ConflictError } from "../../shared/errors.ts";

describe("run lifecycle", () => {
  it("never leaves a terminal status", () => {
    for (const from of TERMINAL_RUN_STATUSES)
      for (const to of RUN_STATUSES) expect(canRunTransition(from, to), `${from} -> ${to}`).toBe(false);
  });

  it("allows the engine's paths and refuses shortcuts", () => {
    expect(canRunTransition("queued", "running")).toBe(true);
    expect(canRunTransition("queued", "cancelled")).toBe(true);
    expect(canRunTransition("queued", "succeeded")).toBe(false);
    expect(canRunTransition("queued", "awaiting_approval")).toBe(false);
    expect(canRunTransition("running", "awaiting_approval")).toBe(true);
    expect(canRunTransition("awaiting_approval", "running")).toBe(true);
    expect(canRunTransition("awaiting_input", "awaiting_approval")).toBe(true);
    for (const to of TERMINAL_RUN_STATUSES) expect(canRunTransition("running", to)).toBe(true);
  });

  it("throws a ConflictError naming both statuses", () => {
    expect(() => assertRunTransition("succeeded", "running")).toThrow(ConflictError);
    expect(() => assertRunTransition("succeeded", "running")).toThrow(/succeeded to running/);
    expect(() => assertRunTransition("queued", "running")).not.toThrow();
  });
});

describe("task lifecycle", () => {
  it("never leaves a terminal status", () => {
    for (const from of ["succeeded", "failed", "skipped", "cancelled"] as const)
      for (const to of TASK_STATUSES) expect(canTaskTransition(from, to), `${from} -> ${to}`).toBe(false);
  });

  it("lets a pending task start, wait for a person, or be skipped, but not finish directly", () => {
    expect(canTaskTransition("pending", "running")).toBe(true);
    expect(canTaskTransition("pending", "awaiting_input")).toBe(true);
    expect(canTaskTransition("pending", "skipped")).toBe(true);
    expect(canTaskTransition("pending", "succeeded")).toBe(false);
    expect(canTaskTransition("running", "skipped")).toBe(false);
    expect(canTaskTransition("running", "running")).toBe(true); // a retry records a new attempt
  });

  it("throws naming the node", () => {
    expect(() => assertTaskTransition("build", "succeeded", "running")).toThrow(/'build'/);
  });
});

describe("audit chain", () => {
  const chain = (n: number) => {
    const events: Array<AuditEventBody & { hash: string }> = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= n; seq++) {
      const body: AuditEventBody = {
        seq,
        at: isoMicro(1_700_000_000_000 + seq),
        type: "task.transition",
        from: "pending",
        to: "running",
        actor: "stepwise:engine",
        detail: { nodeId: `n${seq}` },
        prevHash: prev,
        snapshotHash: hashJson({ seq }),
      };
      const hash = auditEventHash(body);
      events.push({ ...body, hash });
      prev = hash;
    }
    return events;
  };

  it("verifies an intact chain", () => {
    expect(verifyChain(chain(4))).toEqual([]);
    expect(chain(1)[0]?.prevHash).toBe(GENESIS_HASH);
  });

  it("reports an edited event, an edited snapshot hash, a removed event and a re-linked chain", () => {
    const edited = chain(3);
    (edited[1] as AuditEventBody).actor = "mallory";
    expect(verifyChain(edited)).toEqual(["audit event 2: content does not match its hash"]);

    const snap = chain(3);
    (snap[2] as AuditEventBody).snapshotHash = hashJson({ other: true });
    expect(verifyChain(snap)).toEqual(["audit event 3: content does not match its hash"]);

    const gap = chain(3);
    gap.splice(1, 1);
    const problems = verifyChain(gap);
    expect(problems).toContain("audit event 3: prevHash does not match the event before it");
    expect(problems.some((p) => p.includes("sequence number is 3"))).toBe(true);
  });
});

describe("clock", () => {
  it("writes UTC timestamps with microseconds and reads them back", () => {
    const ms = Date.UTC(2026, 10, 21, 10, 0, 0, 123) + 0.456;
    expect(isoMicro(ms)).toBe("2026-11-21T10:00:00.123456Z");
    expect(parseIsoMicro("2026-11-21T10:00:00.123456Z")).toBeCloseTo(ms, 3);
    expect(isoMicro(Date.UTC(2026, 0, 1))).toBe("2026-01-01T00:00:00.000000Z");
    expect(nowIso({ nowMs: () => ms })).toBe("2026-11-21T10:00:00.123456Z");
    expect(nowIso({ nowMs: () => Date.now() })).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

describe("ids", () => {
  it("are prefixed ULIDs that sort by creation", () => {
    const a = newId("run", 1_700_000_000_000);
    const b = newId("run", 1_700_000_000_000);
    const c = newId("run", 1_700_000_000_001);
    for (const id of [a, b, c]) expect(id).toMatch(ID_PATTERN);
    expect(a.startsWith("run_")).toBe(true);
    expect([c, b, a].sort()).toEqual([a, b, c]);
  });
});
