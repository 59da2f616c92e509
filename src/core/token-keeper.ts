import { CallingError } from './errors.js';
import { tokenExpiry } from './signalling-errors.js';
import type { TokenSource } from './types.js';

/**
 * The client's token: fetched (from the app's function) for every connect, and renewed before it expires. The
 * server closes a session when its token expires, so a client with a token function sends a fresh token over the
 * signalling socket before then (at 80 % of the lifetime, at most a minute early). A static token cannot be
 * renewed: the session ends at its expiry.
 */
export class TokenKeeper {
  private expiresAt: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private readonly source: TokenSource | undefined) {}

  /** The static token, or a fresh one from the app's function (a `signalling` `token-failed` error if that fails). */
  async fetch(): Promise<string | undefined> {
    if (typeof this.source !== 'function') return this.source;
    try {
      const fresh = await this.source();
      this.expiresAt = tokenExpiry(fresh);
      return fresh;
    } catch (err) {
      throw new CallingError('signalling', 'token-failed', 'Could not get a token for the calling server.', { cause: err });
    }
  }

  /**
   * Before the current token expires, fetches a fresh one and hands it to `send`, again and again, while `live()`.
   * While not `open()` (reconnecting, which fetches its own token) it only waits for the next round.
   */
  keepFresh(live: () => boolean, open: () => boolean, send: (token: string) => void): void {
    clearTimeout(this.timer);
    if (typeof this.source !== 'function' || this.expiresAt === undefined) return;
    const again = () => this.keepFresh(live, open, send);
    const left = this.expiresAt - Date.now();
    this.timer = setTimeout(() => {
      if (!live()) return;
      if (!open()) return again();
      this.fetch().then(
        (fresh) => {
          if (fresh && live()) send(fresh);
          again();
        },
        () => { this.timer = setTimeout(again, 5_000); },
      );
    }, Math.max(1_000, left - Math.min(60_000, left * 0.2)));
  }

  /** Stops renewing (the client stopped). */
  stop(): void {
    clearTimeout(this.timer);
  }
}
