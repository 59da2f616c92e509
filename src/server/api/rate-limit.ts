/** A token bucket per key: `burst` requests at once, refilled at `perSecond`. */
export interface RateLimitOptions {
  perSecond: number;
  burst: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(readonly options: RateLimitOptions) {
    if (!(options.perSecond > 0) || !(options.burst >= 1)) throw new RangeError('rate limit: perSecond > 0 and burst >= 1');
  }

  /** Takes one token for `key`: 0 when allowed, else the seconds to wait (for `Retry-After`). */
  take(key: string, now = Date.now()): number {
    const { perSecond, burst } = this.options;
    const bucket = this.buckets.get(key) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(key, bucket);
    if (this.buckets.size > 10_000) this.prune(now);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / perSecond));
  }

  private prune(now: number): void {
    const full = (this.options.burst / this.options.perSecond) * 1000;
    for (const [key, b] of this.buckets) if (now - b.at > full) this.buckets.delete(key);
  }
}
