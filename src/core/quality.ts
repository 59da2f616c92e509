/**
 * Call quality from `RTCPeerConnection.getStats()`: a small typed summary (`call.getStats()`) and warnings that are
 * raised and cleared as conditions come and go (like Sinch's `onCallQualityWarning` and Twilio's warnings).
 */

/** A warning's name. */
export type QualityWarningName =
  | 'highRtt' // round-trip time over 300 ms
  | 'highJitter' // inbound audio jitter over 30 ms
  | 'highPacketLoss' // over 3 % of inbound audio packets lost in the last interval
  | 'noInboundAudio' // no audio packets from the other side for 5 s
  | 'micNotWorking'; // our microphone delivers only silence for 5 s while not muted

export interface QualityThresholds {
  rttMs: number;
  jitterMs: number;
  packetLossPercent: number;
  /** How long inbound audio may be absent, and the microphone silent, before warning (ms). */
  silenceMs: number;
}

export const DEFAULT_THRESHOLDS: QualityThresholds = { rttMs: 300, jitterMs: 30, packetLossPercent: 3, silenceMs: 5000 };

/** What `call.getStats()` returns: enough for an app's quality indicator or a support ticket. */
export interface CallStats {
  /** e.g. `audio/opus`. */
  audioCodec?: string;
  videoCodec?: string;
  /** Round-trip time of the media path (ms). */
  rttMs?: number;
  /** Inbound audio jitter (ms). */
  jitterMs?: number;
  /** Inbound audio packets lost, in % of those expected since the call started. */
  packetLossPercent?: number;
  /** Inbound and outbound bitrate over the last interval between two `getStats()` calls (kbit/s). */
  inboundKbps?: number;
  outboundKbps?: number;
  /** Counters, for deltas. */
  audioPacketsReceived: number;
  audioPacketsLost: number;
  audioBytesReceived: number;
  bytesReceived: number;
  bytesSent: number;
  /**
   * ICE restarts of the media path during the call so far (the caller counts the restarts it started, the callee
   * those it answered): more than a few means an unstable network. Set by `call.getStats()`.
   */
  iceRestarts?: number;
  /** Energy the local microphone has delivered so far (`media-source.totalAudioEnergy`). */
  microphoneEnergy?: number;
  timestamp: number;
}

interface StatLike { type: string; kind?: string; [key: string]: unknown }

const num = (x: unknown): number | undefined => (typeof x === 'number' && Number.isFinite(x) ? x : undefined);

/** Reads a stats report into a `CallStats`. `previous` (the last summary) gives bitrates. */
export function summarizeStats(report: RTCStatsReport, previous?: CallStats): CallStats {
  const byId = new Map<string, StatLike>();
  report.forEach((s: StatLike & { id: string }) => byId.set(s.id, s));
  const codecOf = (s: StatLike) => {
    const codec = typeof s.codecId === 'string' ? byId.get(s.codecId) : undefined;
    return typeof codec?.mimeType === 'string' ? codec.mimeType : undefined;
  };
  const out: CallStats = {
    audioPacketsReceived: 0, audioPacketsLost: 0, audioBytesReceived: 0, bytesReceived: 0, bytesSent: 0, timestamp: Date.now(),
  };
  let rtt: number | undefined;
  for (const s of byId.values()) {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      out.audioPacketsReceived += num(s.packetsReceived) ?? 0;
      out.audioPacketsLost += Math.max(0, num(s.packetsLost) ?? 0);
      out.audioBytesReceived += num(s.bytesReceived) ?? 0;
      const jitter = num(s.jitter);
      if (jitter !== undefined) out.jitterMs = jitter * 1000;
      out.audioCodec ??= codecOf(s);
    }
    if (s.type === 'inbound-rtp') out.bytesReceived += num(s.bytesReceived) ?? 0;
    if (s.type === 'inbound-rtp' && s.kind === 'video') out.videoCodec ??= codecOf(s);
    if (s.type === 'outbound-rtp') {
      out.bytesSent += num(s.bytesSent) ?? 0;
      if (s.kind === 'audio') out.audioCodec ??= codecOf(s);
      if (s.kind === 'video') out.videoCodec ??= codecOf(s);
    }
    if (s.type === 'remote-inbound-rtp' && s.kind === 'audio') rtt ??= num(s.roundTripTime);
    if (s.type === 'candidate-pair' && (s.nominated === true || s.state === 'succeeded')) {
      const r = num(s.currentRoundTripTime);
      if (r !== undefined) rtt = r;
    }
    if (s.type === 'media-source' && s.kind === 'audio') out.microphoneEnergy = num(s.totalAudioEnergy);
  }
  if (rtt !== undefined) out.rttMs = rtt * 1000;
  const expected = out.audioPacketsReceived + out.audioPacketsLost;
  if (expected > 0) out.packetLossPercent = (out.audioPacketsLost / expected) * 100;
  if (previous) {
    const seconds = (out.timestamp - previous.timestamp) / 1000;
    if (seconds > 0) {
      out.inboundKbps = Math.max(0, ((out.bytesReceived - previous.bytesReceived) * 8) / 1000 / seconds);
      out.outboundKbps = Math.max(0, ((out.bytesSent - previous.bytesSent) * 8) / 1000 / seconds);
    }
  }
  return out;
}

/**
 * Watches a call's stats every `intervalMs` and decides which warnings are active. Pure bookkeeping: the call
 * feeds it summaries and gets back which warnings started and which cleared.
 */
export class QualityWatch {
  private last?: CallStats;
  private lastInboundAt = Date.now();
  private lastMicAt = Date.now();
  readonly active = new Set<QualityWarningName>();

  constructor(private readonly thresholds: QualityThresholds = DEFAULT_THRESHOLDS) {}

  /** Feeds a new summary; returns the warnings that changed (`true` = raised, `false` = cleared). */
  update(now: CallStats, micMuted: boolean, held = false): Array<[QualityWarningName, boolean]> {
    const prev = this.last;
    this.last = now;
    const t = this.thresholds;
    const want = new Set<QualityWarningName>();
    if (now.rttMs !== undefined && now.rttMs > t.rttMs) want.add('highRtt');
    if (now.jitterMs !== undefined && now.jitterMs > t.jitterMs) want.add('highJitter');
    if (prev) {
      const received = now.audioPacketsReceived - prev.audioPacketsReceived;
      const lost = now.audioPacketsLost - prev.audioPacketsLost;
      if (received + lost > 0 && (lost / (received + lost)) * 100 > t.packetLossPercent) want.add('highPacketLoss');
      // A held call carries no media on purpose: neither silence is a fault.
      if (received > 0 || held) this.lastInboundAt = now.timestamp;
      const energy = (now.microphoneEnergy ?? 0) - (prev.microphoneEnergy ?? 0);
      if (energy > 0 || micMuted || held || now.microphoneEnergy === undefined) this.lastMicAt = now.timestamp;
    } else {
      this.lastInboundAt = this.lastMicAt = now.timestamp;
    }
    if (now.timestamp - this.lastInboundAt >= t.silenceMs) want.add('noInboundAudio');
    if (now.timestamp - this.lastMicAt >= t.silenceMs) want.add('micNotWorking');

    const changes: Array<[QualityWarningName, boolean]> = [];
    for (const w of want) if (!this.active.has(w)) changes.push([w, true]);
    for (const w of this.active) if (!want.has(w)) changes.push([w, false]);
    for (const [w, on] of changes) {
      if (on) this.active.add(w);
      else this.active.delete(w);
    }
    return changes;
  }
}

/**
 * Reads `stats()` every `intervalMs`, feeds `watch` and reports each warning that was raised or cleared to `emit`,
 * until the returned function is called. `stats` resolves `undefined` when there is nothing to read.
 */
export function pollQuality(
  watch: QualityWatch,
  intervalMs: number,
  stats: () => Promise<CallStats | undefined>,
  micMuted: () => boolean,
  emit: (name: QualityWarningName, active: boolean) => void,
  held: () => boolean = () => false,
): () => void {
  const timer = setInterval(() => {
    void stats().then((s) => {
      if (s) for (const [name, active] of watch.update(s, micMuted(), held())) emit(name, active);
    }, () => undefined);
  }, intervalMs);
  return () => clearInterval(timer);
}
