import { describe, expect, it } from "vitest";
import { plainRecord } from "../../shared/domain/audit.ts";
import type { AttemptRecord, TaskRecord } from "../../shared/domain/records.ts";
import { storedTask, taskView } from "../../shared/domain/stored-task.ts";
import { emptyAttempt, pendingTask, stripAttempt } from "../../shared/domain/task-records.ts";

// In the order the engine writes an attempt's fields.
const attempt = (n: number, status: AttemptRecord["status"], stdout: string): AttemptRecord => {
  const { logSha256: _s, startedAt: _a, endedAt: _e, durationMs: _d, host: _h, error: _r, ...head } = emptyAttempt(n);
  return {
    ...head,
    status,
    command: "echo hi",
    stdout,
    logInline: `o|${stdout}`,
    logSha256: "f".repeat(64),
    startedAt: "2026-01-01T00:00:00.000000Z",
    endedAt: "2026-01-01T00:00:01.000000Z",
    durationMs: 1000,
    host: "h",
    error: null,
  };
};
const pending = pendingTask({ id: "a", type: "command", command: "echo hi" } as never);

describe("the stored form of a task record", () => {
  it("keeps a finished task's attempt once and gives the same view back, key order included", () => {
    const a1 = attempt(1, "succeeded", "hi\n");
    const view = plainRecord({ ...pending, ...a1, status: "succeeded", attempt: 1, attempts: [a1], contextSeq: 4 });
    const stored = storedTask(view);
    expect(stored.attempts).toEqual([]);
    expect(stored.lastAttempt).toEqual({});
    expect(JSON.stringify(taskView(stored))).toBe(JSON.stringify(view));
    expect(JSON.stringify(stored).length).toBeLessThan(JSON.stringify(view).length * 0.7);
  });

  it("folds a last attempt that differs from the top level (a retry under way) without losing anything", () => {
    const a1 = attempt(1, "failed", "boom\n");
    const view = plainRecord({
      ...pending,
      ...a1,
      status: "running",
      attempt: 2,
      attempts: [a1],
      retryDueAt: "2026-01-01T00:00:03.000000Z",
    });
    const stored = storedTask(view);
    expect(stored.lastAttempt).toEqual({ set: { attempt: 1, status: "failed" } });
    expect(JSON.stringify(taskView(stored))).toBe(JSON.stringify(view));
  });

  it("keeps earlier attempts, a last attempt lacking top-level fields, and a human step's attempt", () => {
    const a1 = attempt(1, "failed", "one\n");
    const { logInline: _l, ...a2 } = attempt(2, "succeeded", "two\n");
    const view = plainRecord({ ...pending, ...a1, ...a2, status: "succeeded", attempt: 2, attempts: [a1, a2] });
    const stored = storedTask(view);
    expect(stored.attempts).toEqual([a1]);
    expect(stored.lastAttempt).toEqual({ omit: ["logInline"] });
    expect(JSON.stringify(taskView(stored))).toBe(JSON.stringify(view));
    const human = plainRecord({ ...pending, status: "succeeded", attempt: 1 }) as unknown as TaskRecord;
    const humanView = plainRecord({ ...human, attempts: [stripAttempt(human)] });
    expect(JSON.stringify(taskView(storedTask(humanView)))).toBe(JSON.stringify(humanView));
  });

  it("leaves a record with no attempts, and an old stored record with its attempts in full, as they are", () => {
    const fresh = plainRecord(pending);
    expect(storedTask(fresh)).toBe(fresh);
    const a1 = attempt(1, "succeeded", "hi\n");
    const old = plainRecord({ ...pending, ...a1, status: "succeeded", attempts: [a1] });
    expect(taskView(old)).toBe(old);
    // A last attempt whose fields are in another order would not come back byte for byte: it stays in full.
    const { command, ...rest } = a1;
    const reordered = plainRecord({ ...pending, ...a1, status: "succeeded", attempts: [{ ...rest, command }] });
    expect(storedTask(reordered)).toBe(reordered);
  });
});
