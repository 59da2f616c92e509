/**
 * One clock for every bridged call: calls each subscriber once per 10 ms of real time. Timers in Node drift and
 * bunch up under load, so it counts due ticks from a monotonic clock and catches up (at most 10 ticks at once,
 * beyond that it skips: a stalled process should not burst seconds of audio).
 */
import { performance } from 'node:perf_hooks';

export type Tick = (tick: number) => void;

export class Pacer {
  private subscribers = new Set<Tick>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private start = 0;
  private done = 0;
  /** Ticks skipped because the process stalled (for the benchmark). */
  skipped = 0;
  /** Subscriber failures (each is caught so the other calls keep their audio); reported at most every 10 s. */
  errors = 0;
  private lastReport = 0;

  constructor(private readonly onError: (e: unknown, count: number) => void = (e, n) => console.error(`pacer: ${n} subscriber error(s), last:`, e)) {}

  add(fn: Tick): () => void {
    this.subscribers.add(fn);
    if (!this.timer) {
      this.start = performance.now();
      this.done = 0;
      this.schedule();
    }
    return () => {
      this.subscribers.delete(fn);
      if (this.subscribers.size === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
    };
  }

  private schedule(): void {
    this.timer = setTimeout(() => this.run(), 5);
  }

  private run(): void {
    const due = Math.floor((performance.now() - this.start) / 10);
    if (due - this.done > 10) {
      this.skipped += due - this.done - 10;
      this.done = due - 10;
    }
    while (this.done < due) {
      this.done++;
      for (const fn of this.subscribers) {
        try {
          fn(this.done);
        } catch (e) {
          // one call's failure must not stop the others, but it must not go unseen either
          this.errors++;
          const now = performance.now();
          if (now - this.lastReport > 10_000) {
            this.lastReport = now;
            this.onError(e, this.errors);
          }
        }
      }
    }
    if (this.subscribers.size) this.schedule();
    else this.timer = undefined;
  }
}

export const sharedPacer = new Pacer();
