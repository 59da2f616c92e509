/**
 * RTP (RFC 3550) for G.711 at 8 kHz, 20 ms packets: a sender paced by a shared clock, a receiver with a jitter
 * buffer (reordering, loss concealment, drift control), RFC 4733 telephone-events for DTMF, and RTCP sender and
 * receiver reports on the next port up (carriers watch them: some drop calls whose RTCP stops).
 *
 * Far ends behind NAT: packets go to where the far end's RTP really comes from once it arrives (symmetric RTP,
 * RFC 4961), not only to the address in its SDP. A new SSRC (early media from one server, the answer from another;
 * a PBX re-anchoring media) starts the jitter buffer over instead of dropping the new stream's packets as late.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import alawmulaw from 'alawmulaw';
import { performance } from 'node:perf_hooks';
import { isHold, type Direction, type G711, type RemoteAudio } from './sdp.js';
import { buildReport, isRtcp, ntpNow, parseRtcp, ReceptionStats, type ReportBlock } from './rtcp.js';

const { alaw, mulaw } = alawmulaw;

export const SAMPLES_PER_PACKET = 160; // 20 ms at 8 kHz

export interface RtpPacket {
  payloadType: number;
  marker: boolean;
  seq: number;
  timestamp: number;
  ssrc: number;
  payload: Buffer;
}

export function parseRtp(buf: Buffer): RtpPacket | undefined {
  if (buf.length < 12 || buf[0] >> 6 !== 2) return undefined;
  const cc = buf[0] & 0x0f;
  let off = 12 + cc * 4;
  if (buf[0] & 0x10) {
    if (buf.length < off + 4) return undefined;
    off += 4 + buf.readUInt16BE(off + 2) * 4;
  }
  let end = buf.length;
  if (buf[0] & 0x20) end -= buf[buf.length - 1];
  if (off > end) return undefined;
  return {
    payloadType: buf[1] & 0x7f,
    marker: (buf[1] & 0x80) !== 0,
    seq: buf.readUInt16BE(2),
    timestamp: buf.readUInt32BE(4),
    ssrc: buf.readUInt32BE(8),
    payload: buf.subarray(off, end),
  };
}

export function buildRtp(p: RtpPacket): Buffer {
  const b = Buffer.alloc(12 + p.payload.length);
  b[0] = 0x80;
  b[1] = (p.marker ? 0x80 : 0) | (p.payloadType & 0x7f);
  b.writeUInt16BE(p.seq & 0xffff, 2);
  b.writeUInt32BE(p.timestamp >>> 0, 4);
  b.writeUInt32BE(p.ssrc >>> 0, 8);
  p.payload.copy(b, 12);
  return b;
}

export function encodeG711(codec: G711, pcm: Int16Array): Buffer {
  const u = codec === 'PCMU' ? mulaw.encode(pcm) : alaw.encode(pcm);
  return Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}
export function decodeG711(codec: G711, payload: Buffer): Int16Array {
  const bytes = new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength);
  return codec === 'PCMU' ? mulaw.decode(bytes) : alaw.decode(bytes);
}

const DTMF_EVENTS = '0123456789*#ABCD';
/** RFC 4733 event code of a DTMF digit (0-9 → 0-9, * → 10, # → 11, A-D → 12-15). */
export function dtmfEvent(digit: string): number {
  const i = DTMF_EVENTS.indexOf(digit.toUpperCase());
  if (i < 0) throw new Error(`not a DTMF digit: ${digit}`);
  return i;
}

/** Signed distance between 16-bit sequence numbers. */
function seqDiff(a: number, b: number): number {
  return ((a - b + 0x8000) & 0xffff) - 0x8000;
}

export interface JitterStats { received: number; played: number; lost: number; late: number; underruns: number; dropped: number; resets: number }

/**
 * Jitter buffer: holds packets by sequence number, starts playing once `target` packets are buffered, conceals a
 * missing packet by repeating the previous one at half level, and drops the oldest when it holds more than `max`
 * (clock drift or a burst).
 */
export class JitterBuffer {
  private packets = new Map<number, Int16Array>();
  private next: number | undefined;
  private playing = false;
  private last: Int16Array | undefined;
  private pending: Int16Array | undefined; // the second half of the current 20 ms packet
  private sinceTrim = 0;
  readonly stats: JitterStats = { received: 0, played: 0, lost: 0, late: 0, underruns: 0, dropped: 0, resets: 0 };

  constructor(private readonly target = 3, private readonly max = 12) {}

  get depth(): number { return this.packets.size; }

  /** A new stream (new SSRC): its sequence numbers have nothing to do with the old one's; prefill again. */
  reset(): void {
    this.packets.clear();
    this.next = undefined;
    this.playing = false;
    this.stats.resets++;
  }

  push(seq: number, samples: Int16Array): void {
    this.stats.received++;
    if (this.next !== undefined && seqDiff(seq, this.next) < 0) {
      this.stats.late++;
      return;
    }
    this.packets.set(seq, samples);
    this.next ??= seq;
    while (this.packets.size > this.max && this.next !== undefined) {
      if (this.packets.delete(this.next)) this.stats.dropped++;
      this.next = (this.next + 1) & 0xffff;
    }
  }

  /** 10 ms (80 samples) for the WebRTC side; silence while buffering. */
  pull10(): Int16Array {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      return p;
    }
    // Copies: wrtc's RTCAudioSource wants arrays that start at offset 0 of their own buffer.
    const pkt = this.pull20();
    this.pending = pkt.slice(80, 160);
    return pkt.slice(0, 80);
  }

  private pull20(): Int16Array {
    if (!this.playing) {
      if (this.packets.size < this.target || this.next === undefined) return new Int16Array(SAMPLES_PER_PACKET);
      this.playing = true;
    }
    if (this.packets.size === 0 || this.next === undefined) {
      this.playing = false;
      this.stats.underruns++;
      return new Int16Array(SAMPLES_PER_PACKET);
    }
    // Standing delay control: a buffer that stays deeper than target + 2 (after a burst) drops one packet per second.
    if (++this.sinceTrim >= 50 && this.packets.size > this.target + 2) {
      this.sinceTrim = 0;
      if (this.packets.delete(this.next)) this.stats.dropped++;
      this.next = (this.next + 1) & 0xffff;
    }
    const seq = this.next;
    this.next = (seq + 1) & 0xffff;
    const pkt = this.packets.get(seq);
    if (pkt) {
      this.packets.delete(seq);
      this.stats.played++;
      this.last = pkt;
      return pad(pkt);
    }
    this.stats.lost++;
    const conceal = new Int16Array(SAMPLES_PER_PACKET);
    if (this.last) for (let i = 0; i < conceal.length && i < this.last.length; i++) conceal[i] = this.last[i] >> 1;
    this.last = conceal;
    return conceal;
  }
}

function pad(p: Int16Array): Int16Array {
  if (p.length === SAMPLES_PER_PACKET) return p;
  const out = new Int16Array(SAMPLES_PER_PACKET);
  out.set(p.subarray(0, SAMPLES_PER_PACKET));
  return out;
}

export interface RtpEndpoint { address: string; port: number }

export interface RtpSessionEvents {
  /** An RFC 4733 event ended (received). */
  dtmf: [digit: string];
  /** First packet arrived. */
  flowing: [];
  /** No RTP arrived for the inactivity timeout while the far end should be sending (see `watchInactivity`). */
  inactive: [silentMs: number];
  /** RTP started coming from an address other than the SDP's (NAT): we now send there (symmetric RTP). */
  latched: [from: RtpEndpoint];
  /** A report block about our stream arrived in the far end's RTCP. */
  remoteReport: [ReportBlock];
}

export interface RtpStats {
  sent: number;
  received: number;
  dtmfSent: number;
  jitter: JitterStats;
  /** Datagrams on the RTP or RTCP port that were neither valid RTP nor valid RTCP (dropped). */
  malformed: number;
  /** Times a new SSRC took over the incoming stream. */
  ssrcChanges: number;
  rtcpSent: number;
  rtcpReceived: number;
  /** Packets not sent because the call is on hold: the far end's (sendonly/inactive) or ours (`setLocalHold`). */
  heldBack: number;
}

/** RTCP report interval (RFC 3550 §6.2: 5 s minimum), randomized by ±50 % per report. */
export const RTCP_INTERVAL_MS = 5000;

/**
 * One RTP stream: binds a local UDP port pair (RTP even, RTCP odd), sends 20 ms G.711 packets when `tick20()` is
 * called (by the shared pacer), decodes what arrives into a jitter buffer, and sends DTMF as telephone-events
 * instead of audio.
 */
export class RtpSession extends EventEmitter<RtpSessionEvents> {
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomBytes(2).readUInt16BE(0);
  private ts = randomBytes(4).readUInt32BE(0);
  private first = true;
  private remote: RtpEndpoint | undefined;
  private remoteRtcp: RtpEndpoint | undefined;
  /** Where the far end's RTP (RTCP) really comes from, once it arrived. */
  private latched: RtpEndpoint | undefined;
  private latchedRtcp: RtpEndpoint | undefined;
  private lastFromLatched = 0;
  private direction: Direction = 'sendrecv';
  private localHold = false;
  private codec: G711 = 'PCMU';
  private payloadType = 0;
  private dtmfPt: number | undefined;
  private outgoing: Int16Array[] = [];
  private outFill: Int16Array | undefined;
  private dtmfQueue: string[] = [];
  private dtmfNow: { event: number; ts: number; packets: number; gap: number } | undefined;
  private flowing = false;
  private closed = false;
  private rxSsrc: number | undefined;
  private reception: ReceptionStats | undefined;
  private octetsSent = 0;
  private sentSinceReport = false;
  private lastRtpAt = 0;
  private rtcpTimer: ReturnType<typeof setTimeout> | undefined;
  private inactivityTimer: ReturnType<typeof setInterval> | undefined;
  readonly jitter = new JitterBuffer();
  readonly stats: RtpStats;
  /** Received RFC 4733 events in progress, by timestamp. */
  private rxEventTs: number | undefined;

  private constructor(private readonly socket: Socket, private readonly rtcpSocket: Socket, readonly localAddress: string, readonly localPort: number) {
    super();
    this.stats = {
      sent: 0, received: 0, dtmfSent: 0, jitter: this.jitter.stats, malformed: 0, ssrcChanges: 0, rtcpSent: 0, rtcpReceived: 0, heldBack: 0,
    };
    socket.on('message', (buf, rinfo) => this.onPacket(buf, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
    rtcpSocket.on('message', (buf, rinfo) => this.onRtcp(buf, { address: rinfo.address, port: rinfo.port }));
    rtcpSocket.on('error', () => undefined);
  }

  /** Binds to `address` on an even port in [min, max] and the odd one above it for RTCP (0/0: any free pair). */
  static async open(address: string, range: { min: number; max: number } = { min: 0, max: 0 }): Promise<RtpSession> {
    const tryBind = (port: number) => new Promise<Socket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', (e) => {
        s.close();
        reject(e);
      });
      s.bind(port, address, () => resolve(s));
    });
    const tryPair = async (port: number): Promise<RtpSession | undefined> => {
      let rtp: Socket | undefined;
      try {
        rtp = await tryBind(port);
        const actual = rtp.address().port;
        if (actual % 2 !== 0) throw new Error('odd');
        const rtcp = await tryBind(actual + 1);
        return new RtpSession(rtp, rtcp, address, actual);
      } catch {
        rtp?.close();
        return undefined;
      }
    };
    if (!range.min) {
      for (let i = 0; i < 64; i++) {
        const session = await tryPair(0);
        if (session) return session;
      }
      throw new Error('no free RTP/RTCP port pair');
    }
    const span = Math.max(2, range.max - range.min);
    const start = range.min + 2 * Math.floor((Math.random() * span) / 2);
    for (let i = 0; i < span; i += 2) {
      const port = range.min + ((start - range.min + i) % span);
      const session = await tryPair(port - (port % 2));
      if (session) return session;
    }
    throw new Error(`no free RTP port in ${range.min}-${range.max}`);
  }

  /**
   * Where to send (from the far end's SDP), with the negotiated codec, telephone-event payload type and the far end's
   * direction: while it is `sendonly` or `inactive` (hold) nothing is sent.
   */
  setRemote(remote: RemoteAudio): void {
    const moved = !this.remote || this.remote.address !== remote.address || this.remote.port !== remote.port;
    this.remote = { address: remote.address, port: remote.port };
    this.remoteRtcp = { address: remote.address, port: remote.rtcpPort };
    if (moved) {
      this.latched = undefined;
      this.latchedRtcp = undefined;
    }
    this.codec = remote.codec;
    this.payloadType = remote.payloadType;
    this.dtmfPt = remote.dtmfPayloadType;
    this.direction = remote.direction;
    this.lastRtpAt = performance.now();
    this.scheduleRtcp();
  }

  get hasRemote(): boolean { return this.remote !== undefined; }
  get supportsDtmf(): boolean { return this.dtmfPt !== undefined; }
  /** Whether the far end put us on hold (its SDP says `sendonly` or `inactive`): we send nothing meanwhile. */
  get isRemoteOnHold(): boolean { return isHold(this.direction); }
  /** Whether we hold the call (the browser put it on hold): we send nothing meanwhile. */
  get isLocalOnHold(): boolean { return this.localHold; }

  /**
   * Our side puts the call on hold (the browser did; the gateway re-INVITEs with `a=sendonly`) or resumes it: no RTP
   * is sent while held, whatever the far end's SDP says, and the inactivity watch rests (a held far end may go quiet).
   */
  setLocalHold(held: boolean): void {
    this.localHold = held;
    this.lastRtpAt = performance.now();
  }

  /** Where RTP goes now (the latched source, else the SDP's address). */
  get sendingTo(): RtpEndpoint | undefined { return this.latched ?? this.remote; }

  /**
   * Ends the call's media watch: `inactive` is emitted when no RTP arrived for `timeoutMs` while the far end should
   * be sending (not on hold, not `recvonly`). 0 turns it off.
   */
  watchInactivity(timeoutMs: number): void {
    if (this.inactivityTimer) clearInterval(this.inactivityTimer);
    this.inactivityTimer = undefined;
    if (!timeoutMs) return;
    this.lastRtpAt = performance.now();
    this.inactivityTimer = setInterval(() => {
      const silent = performance.now() - this.lastRtpAt;
      if ((this.direction !== 'sendrecv' && this.direction !== 'sendonly') || this.localHold) {
        this.lastRtpAt = performance.now();
        return;
      }
      if (silent >= timeoutMs && !this.closed) {
        if (this.inactivityTimer) clearInterval(this.inactivityTimer);
        this.inactivityTimer = undefined;
        this.emit('inactive', Math.round(silent));
      }
    }, Math.min(1000, Math.max(100, timeoutMs / 4)));
    this.inactivityTimer.unref();
  }

  /** Queues 8 kHz audio to send (any length; sent in 20 ms packets). Keeps at most 60 ms queued. */
  write(pcm8k: Int16Array): void {
    let data = pcm8k;
    if (this.outFill) {
      const joined = new Int16Array(this.outFill.length + data.length);
      joined.set(this.outFill);
      joined.set(data, this.outFill.length);
      data = joined;
      this.outFill = undefined;
    }
    let off = 0;
    while (data.length - off >= SAMPLES_PER_PACKET) {
      this.outgoing.push(data.slice(off, off + SAMPLES_PER_PACKET));
      off += SAMPLES_PER_PACKET;
    }
    if (off < data.length) this.outFill = data.slice(off);
    while (this.outgoing.length > 3) this.outgoing.shift();
  }

  /** Queues DTMF digits (RFC 4733): 100 ms tone, 60 ms pause each. */
  sendDtmf(digits: string): void {
    for (const d of digits) this.dtmfQueue.push(d);
  }

  /** Called every 20 ms by the pacer: sends one packet (audio, silence, or a telephone-event). */
  tick20(): void {
    if (this.closed || !this.remote) return;
    const pcm = this.outgoing.shift() ?? new Int16Array(SAMPLES_PER_PACKET);
    if (this.isRemoteOnHold || this.localHold) {
      // Held: keep the clock running so the stream resumes with a plausible timestamp, send nothing.
      this.stats.heldBack++;
      this.ts = (this.ts + SAMPLES_PER_PACKET) >>> 0;
      this.first = true;
      return;
    }
    if (!this.dtmfNow && this.dtmfQueue.length && this.dtmfPt !== undefined) {
      this.dtmfNow = { event: dtmfEvent(this.dtmfQueue.shift() ?? '0'), ts: this.ts, packets: 0, gap: 0 };
    }
    const d = this.dtmfNow;
    if (d && this.dtmfPt !== undefined) {
      if (d.packets < 8) {
        // 5 packets of a growing duration, then the end packet three times (RFC 4733 §2.5.1.4).
        d.packets++;
        const end = d.packets > 5;
        const duration = Math.min(d.packets, 5) * SAMPLES_PER_PACKET;
        const payload = Buffer.alloc(4);
        payload[0] = d.event;
        payload[1] = (end ? 0x80 : 0) | 10; // E bit, volume -10 dBm0
        payload.writeUInt16BE(duration, 2);
        this.send(this.dtmfPt, d.packets === 1, d.ts, payload);
        if (d.packets === 8) this.stats.dtmfSent++;
        this.ts = (this.ts + SAMPLES_PER_PACKET) >>> 0;
        return;
      }
      if (d.gap < 3) {
        d.gap++;
        if (d.gap === 3) this.dtmfNow = undefined;
      }
    }
    this.send(this.payloadType, this.first, this.ts, encodeG711(this.codec, pcm));
    this.first = false;
    this.ts = (this.ts + SAMPLES_PER_PACKET) >>> 0;
  }

  private send(pt: number, marker: boolean, ts: number, payload: Buffer): void {
    const to = this.sendingTo;
    if (!to) return;
    const pkt = buildRtp({ payloadType: pt, marker, seq: this.seq, timestamp: ts, ssrc: this.ssrc, payload });
    this.seq = (this.seq + 1) & 0xffff;
    this.stats.sent++;
    this.octetsSent += payload.length;
    this.sentSinceReport = true;
    this.socket.send(pkt, to.port, to.address);
  }

  private onPacket(buf: Buffer, address: string, port: number): void {
    if (this.closed) return;
    if (isRtcp(buf)) {
      // rtcp-mux (RFC 5761) from a far end that multiplexes.
      this.onRtcp(buf, { address, port });
      return;
    }
    const p = parseRtp(buf);
    const known = p && (p.payloadType === this.payloadType || p.payloadType === 0 || p.payloadType === 8 || p.payloadType === this.dtmfPt);
    if (!p || !known) {
      this.stats.malformed++;
      return;
    }
    const now = performance.now();
    this.latch(address, port, now);
    this.stats.received++;
    this.lastRtpAt = now;
    if (!this.flowing) {
      this.flowing = true;
      this.emit('flowing');
    }
    if (p.ssrc !== this.rxSsrc) {
      if (this.rxSsrc !== undefined) {
        this.stats.ssrcChanges++;
        this.jitter.reset();
        this.rxEventTs = undefined;
      }
      this.rxSsrc = p.ssrc;
      this.reception = new ReceptionStats(p.ssrc, p.seq);
    }
    this.reception?.update(p.seq, p.timestamp, now);
    if (p.payloadType === this.dtmfPt && p.payloadType !== 0 && p.payloadType !== 8) {
      if (p.payload.length < 4) return;
      const end = (p.payload[1] & 0x80) !== 0;
      if (end && this.rxEventTs !== p.timestamp) {
        this.rxEventTs = p.timestamp;
        const digit = DTMF_EVENTS[p.payload[0]];
        if (digit) this.emit('dtmf', digit);
      }
      return;
    }
    // Before the answer (or after a codec change) take what arrives.
    const codec: G711 = p.payloadType === this.payloadType ? this.codec : p.payloadType === 0 ? 'PCMU' : 'PCMA';
    this.jitter.push(p.seq, decodeG711(codec, p.payload));
  }

  /**
   * Symmetric RTP: the first source after the SDP is where we send from then on; another source takes over only once
   * the current one has been silent for a second (a re-anchored stream), so a stray packet cannot steal the call.
   */
  private latch(address: string, port: number, now: number): void {
    const current = this.latched;
    const same = current && current.address === address && current.port === port;
    if (same) {
      this.lastFromLatched = now;
      return;
    }
    if (current && now - this.lastFromLatched < 1000) return;
    this.latched = { address, port };
    this.lastFromLatched = now;
    if (this.remote && (this.remote.address !== address || this.remote.port !== port)) this.emit('latched', { address, port });
  }

  private onRtcp(buf: Buffer, from: RtpEndpoint): void {
    if (this.closed) return;
    const packets = parseRtcp(buf);
    if (!packets) {
      this.stats.malformed++;
      return;
    }
    this.stats.rtcpReceived++;
    this.latchedRtcp = from;
    const now = performance.now();
    for (const p of packets) {
      if (p.type === 'sr' && p.ssrc === this.rxSsrc) this.reception?.senderReport(p.ntp, now);
      if (p.type === 'sr' || p.type === 'rr') for (const b of p.reports) if (b.ssrc === this.ssrc) this.emit('remoteReport', b);
    }
  }

  private scheduleRtcp(): void {
    if (this.rtcpTimer || this.closed) return;
    this.rtcpTimer = setTimeout(() => {
      this.rtcpTimer = undefined;
      this.sendRtcp(false);
      this.scheduleRtcp();
    }, RTCP_INTERVAL_MS * (0.5 + Math.random()));
    this.rtcpTimer.unref();
  }

  /** Sends a report now (tests, and the BYE on close). */
  sendRtcp(bye: boolean): void {
    const to = this.latchedRtcp ?? this.remoteRtcp;
    if (!to) return;
    const report = buildReport({
      ssrc: this.ssrc,
      cname: `gateway@${this.localAddress}`,
      ...(this.sentSinceReport ? { sender: { rtpTimestamp: this.ts, packets: this.stats.sent, octets: this.octetsSent, ntp: ntpNow() } } : {}),
      blocks: this.reception ? [this.reception.block(performance.now())] : [],
      bye,
    });
    this.sentSinceReport = false;
    this.stats.rtcpSent++;
    this.rtcpSocket.send(report, to.port, to.address);
  }

  close(): void {
    if (this.closed) return;
    if (this.remote) this.sendRtcp(true);
    this.closed = true;
    if (this.rtcpTimer) clearTimeout(this.rtcpTimer);
    if (this.inactivityTimer) clearInterval(this.inactivityTimer);
    this.socket.close();
    // Let the BYE leave first.
    setTimeout(() => this.rtcpSocket.close(), 0);
  }
}
