// Test support: a clock the test moves, so that what waits on time (deadlines, schedules, sweeps) happens at once.
import type { Clock } from "../../shared/domain/clock.ts";

/** Wall time shifted by an offset the test sets: moved forward by some time, or to a given instant. */
export class ShiftedClock implements Clock {
  private offset = 0;
  nowMs(): number {
    return Date.now() + this.offset;
  }
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    this.offset += ms;
  }
  /** Moves the clock to `iso` (it keeps running from there). */
  set(iso: string): void {
    this.offset = Date.parse(iso) - Date.now();
  }
}
