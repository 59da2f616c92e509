// Deadlines for every wait of the benchmarks, in Node and in the benchmark pages alike (no DOM, no Node APIs): a
// bench that waits for something that never comes must fail that one phase with a message saying what it waited for,
// not sit idle. bench/run.ts runs each phase through `phase`, so one failed phase leaves the others' figures intact.

/** `promise`, or a rejection `"<what>: nothing within <ms> ms"` once `ms` have passed. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * The next `type` event of `target` within `ms`. With `already`, a condition that means the event has happened
 * (e.g. `() => call.state === 'established'`), it resolves at once when the event came before the wait began.
 */
export function once(target: EventTarget, type: string, ms: number, already?: () => boolean): Promise<Event | undefined> {
  if (already?.()) return Promise.resolve(undefined);
  let listener: ((e: Event) => void) | undefined;
  const event = new Promise<Event>((resolve) => {
    listener = resolve;
    target.addEventListener(type, listener, { once: true });
  });
  return within(event, ms, `no "${type}" event`).finally(() => target.removeEventListener(type, listener!));
}

/** A PeerJS-style emitter (`once`/`off`), e.g. a raw `Peer` or `MediaConnection`. */
interface Emitter<E extends string> {
  once(event: E, fn: () => void): unknown;
  once(event: 'error', fn: (err: unknown) => void): unknown;
  off(event: E, fn: () => void): unknown;
  off(event: 'error', fn: (err: unknown) => void): unknown;
}

/** The next `event` of a PeerJS emitter within `ms`; its `error` event rejects. */
export function onceEmitted<E extends string>(emitter: Emitter<E>, event: E, ms: number): Promise<void> {
  let ok: (() => void) | undefined;
  let fail: ((e: unknown) => void) | undefined;
  const done = new Promise<void>((resolve, reject) => {
    ok = () => resolve();
    fail = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
    emitter.once(event, ok);
    emitter.once('error', fail);
  });
  return within(done, ms, `no "${event}"`).finally(() => {
    emitter.off(event, ok!);
    emitter.off('error', fail!);
  });
}

/** A phase's figures, or the error that stopped it: what `phase` returns. */
export type PhaseResult<T> = T | { error: string };

/** Runs one phase under a deadline; a failure becomes `{ error }` in its place in the report. */
export async function phase<T>(name: string, ms: number, run: () => Promise<T>): Promise<PhaseResult<T>> {
  try {
    return await within(run(), ms, `${name} did not finish`);
  } catch (err) {
    return { error: err instanceof Error ? err.message : String(err) };
  }
}

/** Whether a phase failed. */
export function failed<T>(r: PhaseResult<T>): r is { error: string } {
  return typeof r === 'object' && r !== null && 'error' in r && typeof (r as { error: unknown }).error === 'string';
}
