import type { Cron } from "croner";
import { type Clock, isoMicro } from "../../domain/clock.ts";
import type { ScheduleFiring, ScheduleRegistration, Scheduler } from "../../ports/triggers.ts";
import { instantsBetween, parseCron } from "../../triggers/cron.ts";
import type { DurableList } from "./durable-list.ts";

interface Entry {
  reg: ScheduleRegistration;
  cron: Cron;
  /** Instants up to here have been looked at (fired, or let pass as missed). */
  checkedThrough: number;
  /**
   * Since when this process has been the one due to fire the schedule (its start, or the PUT that created or re-timed
   * it). Only instants after this may fire late by the grace: earlier ones were missed while the service was down.
   */
  upSince: number;
}

export interface StoredRegistration extends ScheduleRegistration {
  checkedThrough: number;
}

export interface LocalSchedulerOptions {
  /** Fires one instant: the same trigger handler EventBridge Scheduler invokes in the cloud. */
  fire: (firing: ScheduleFiring) => Promise<unknown>;
  /**
   * How late an instant this process was up for may still fire (read at every tick, so tests can change it); it
   * never revives an instant missed while the service was down: only the schedule's catch-up window does that.
   */
  graceSeconds: () => number;
  /** How often the background timer ticks; the time itself always comes from the injected clock. */
  tickMs: number;
  /** Every this many ticks, re-checks each schedule for a buffered firing whose run has ended. */
  sweepEveryTicks?: number;
  sweep?: (orgId: string, name: string) => Promise<unknown>;
  log: (line: string) => void;
}

const keyOf = (orgId: string, name: string) => `${orgId}#${name}`;

/**
 * The embedded mode's EventBridge Scheduler: registrations persist in the table, instants come from the injected
 * Clock (tests call `tick()` after moving it), and after a restart an instant is never fired twice: the position
 * reached is saved, and each instant is also claimed by the trigger handler before it starts anything. An instant
 * missed while the process was down fires once if it lies within the schedule's catch-up window (the latest one only);
 * the lateness grace covers only instants that came while this process was running (a busy event loop, a slow tick).
 */
export class LocalScheduler implements Scheduler {
  private readonly entries = new Map<string, Entry>();
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private ticks = 0;

  constructor(
    private readonly store: DurableList<StoredRegistration>,
    private readonly clock: Clock,
    private readonly opts: LocalSchedulerOptions,
  ) {}

  /** Loads the saved registrations and starts the background timer. */
  async start(): Promise<void> {
    const upSince = this.clock.nowMs();
    for (const stored of await this.store.all()) {
      const { checkedThrough, ...reg } = stored;
      try {
        this.entries.set(keyOf(reg.orgId, reg.name), {
          reg,
          cron: parseCron(reg.cron, reg.timezone),
          checkedThrough,
          upSince,
        });
      } catch (err) {
        this.opts.log(`schedule ${reg.orgId}/${reg.name} not loaded: ${(err as Error).message}`);
      }
    }
    this.timer = setInterval(() => void this.tick().catch(() => {}), this.opts.tickMs);
    this.timer.unref();
  }

  /** Stops the timer, waits for a tick in progress and saves how far each schedule got. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.chain;
    for (const e of this.entries.values()) await this.save(e);
  }

  async put(reg: ScheduleRegistration): Promise<void> {
    const key = keyOf(reg.orgId, reg.name);
    const before = this.entries.get(key);
    const cron = parseCron(reg.cron, reg.timezone);
    const sameTimes = before && before.reg.cron === reg.cron && before.reg.timezone === reg.timezone;
    // A new or re-timed schedule starts from now: instants before the change are not "missed".
    const now = this.clock.nowMs();
    const entry: Entry = sameTimes
      ? { reg, cron, checkedThrough: before.checkedThrough, upSince: before.upSince }
      : { reg, cron, checkedThrough: now, upSince: now };
    await this.save(entry);
    this.entries.set(key, entry);
  }

  async remove(orgId: string, name: string): Promise<void> {
    this.entries.delete(keyOf(orgId, name));
    await this.store.delete(keyOf(orgId, name));
  }

  /** Looks at the clock once and fires every schedule that is due; ticks never overlap. */
  tick(): Promise<void> {
    const run = this.chain.then(() => this.tickOnce());
    this.chain = run.catch(() => {});
    return run;
  }

  private async tickOnce(): Promise<void> {
    const now = this.clock.nowMs();
    const sweep = this.opts.sweep && ++this.ticks % (this.opts.sweepEveryTicks ?? 30) === 0;
    for (const e of [...this.entries.values()]) {
      if (sweep) await this.opts.sweep?.(e.reg.orgId, e.reg.name).catch(() => {});
      if (!e.reg.enabled) {
        e.checkedThrough = Math.max(e.checkedThrough, now);
        continue;
      }
      // Two ways an instant is still due: within the catch-up window (whenever it was missed), or within the grace
      // if this process was already up when it came. Both are "after X until now", so their union starts at the
      // smaller X.
      const catchupFrom = now - e.reg.catchupWindowSeconds * 1000;
      const graceFrom = Math.max(e.upSince, now - this.opts.graceSeconds() * 1000);
      const due = instantsBetween(e.cron, Math.max(e.checkedThrough, Math.min(catchupFrom, graceFrom)), now, 1);
      const latest = due[due.length - 1];
      if (latest === undefined) {
        e.checkedThrough = Math.max(e.checkedThrough, now);
        continue;
      }
      try {
        await this.opts.fire({ orgId: e.reg.orgId, name: e.reg.name, scheduledFor: isoMicro(latest) });
      } catch (err) {
        this.opts.log(`schedule ${e.reg.orgId}/${e.reg.name} at ${isoMicro(latest)} failed: ${(err as Error).message}`);
      }
      e.checkedThrough = Math.max(e.checkedThrough, now);
      // Unless the schedule was replaced or removed while it fired.
      if (this.entries.get(keyOf(e.reg.orgId, e.reg.name)) === e) await this.save(e);
    }
  }

  private async save(e: Entry): Promise<void> {
    const item: StoredRegistration = { ...e.reg, checkedThrough: e.checkedThrough };
    await this.store.put(keyOf(e.reg.orgId, e.reg.name), item);
  }
}
