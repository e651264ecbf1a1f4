/**
 * A value the embedded composition makes after the things that call it: the local state machines and the
 * in-process scheduler are adapters given to createServices, yet their tasks are handlers built from its result.
 */
export class Late<T> {
  private value: T | undefined;

  /** Sets the value, once. */
  set(value: T): void {
    if (this.value !== undefined) throw new Error("set twice");
    this.value = value;
  }

  /** The value; called only once the composition has finished (a state machine runs nothing before). */
  get(): T {
    if (this.value === undefined) throw new Error("used before the embedded composition finished");
    return this.value;
  }
}
