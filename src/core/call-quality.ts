import { loadQualityChunk } from './chunks.js';
import type { CallStats, QualityWarningName, QualityWatch } from './quality.js';

/** What a call's quality watch needs from the call (a plain object of arrow functions). */
export interface CallQualityHost {
  readonly interval: number;
  peerConnection(): RTCPeerConnection | undefined;
  iceRestarts(): number;
  muted(): boolean;
  held(): boolean;
  ended(): boolean;
  warn(name: QualityWarningName, active: boolean): void;
}

/** A call's stats and quality warnings; the code that reads and judges them is a lazy chunk (see chunks.ts). */
export class CallQuality {
  private watch: QualityWatch | undefined;
  private stop: (() => void) | undefined;
  private last: CallStats | undefined;

  constructor(private readonly host: CallQualityHost) {}

  get warnings(): ReadonlySet<QualityWarningName> { return this.watch?.active ?? new Set(); }

  async getStats(): Promise<CallStats | undefined> {
    const pc = this.host.peerConnection();
    if (!pc || pc.connectionState === 'closed') return undefined;
    const [{ summarizeStats }, report] = await Promise.all([loadQualityChunk(), pc.getStats()]);
    this.last = { ...summarizeStats(report, this.last), iceRestarts: this.host.iceRestarts() };
    return this.last;
  }

  /** Polls stats for quality warnings from now (the call is established) until `close()`. */
  start(): void {
    if (this.watch) return;
    void loadQualityChunk().then(({ pollQuality, QualityWatch }) => {
      if (this.host.ended() || this.watch) return;
      this.watch = new QualityWatch();
      const { interval, muted, warn, held } = this.host;
      this.stop = pollQuality(this.watch, interval, () => this.getStats(), muted, warn, held);
    }, () => undefined);
  }

  close(): void {
    this.stop?.();
  }
}
