/** The effects loop's sleep: until a timer is due, or until something it waits on (an attempt's end) wakes it. */
export class Wakeup {
  private wake: (() => void) | null = null;

  /** Ends the current sleep, if any. */
  notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** Sleeps `ms` at most, less when notified. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(
        () => {
          this.wake = null;
          resolve();
        },
        Math.max(0, ms),
      );
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
