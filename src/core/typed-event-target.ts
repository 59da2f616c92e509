type Listener<E extends Event> = ((event: E) => void) | { handleEvent(event: E): void };

/**
 * An `EventTarget` whose `addEventListener` knows the event class of each event name, so that
 * `call.addEventListener('ended', (e) => e.call.details.endCause)` type-checks without casts.
 */
export class TypedEventTarget<M extends object> extends EventTarget {
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M[K] & Event> | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void;
  override addEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | AddEventListenerOptions): void {
    super.addEventListener(type, listener, options);
  }

  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: Listener<M[K] & Event> | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void;
  override removeEventListener(type: string, listener: EventListenerOrEventListenerObject | null, options?: boolean | EventListenerOptions): void {
    super.removeEventListener(type, listener, options);
  }
}
