/**
 * RTP (RFC 3550) for G.711 at 8 kHz, 20 ms packets: a sender paced by a shared clock, a receiver with a jitter
 * buffer (reordering, loss concealment, drift control), and RFC 4733 telephone-events for DTMF.
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import alawmulaw from 'alawmulaw';
import type { G711 } from './sdp.js';

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

export interface JitterStats { received: number; played: number; lost: number; late: number; underruns: number; dropped: number }

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
  readonly stats: JitterStats = { received: 0, played: 0, lost: 0, late: 0, underruns: 0, dropped: 0 };

  constructor(private readonly target = 3, private readonly max = 12) {}

  get depth(): number { return this.packets.size; }

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
}

export interface RtpStats { sent: number; received: number; dtmfSent: number; jitter: JitterStats }

/**
 * One RTP stream: binds a local UDP port, sends 20 ms G.711 packets when `tick20()` is called (by the shared
 * pacer), decodes what arrives into a jitter buffer, and sends DTMF as telephone-events instead of audio.
 */
export class RtpSession extends EventEmitter<RtpSessionEvents> {
  private readonly ssrc = randomBytes(4).readUInt32BE(0);
  private seq = randomBytes(2).readUInt16BE(0);
  private ts = randomBytes(4).readUInt32BE(0);
  private first = true;
  private remote: RtpEndpoint | undefined;
  private codec: G711 = 'PCMU';
  private payloadType = 0;
  private dtmfPt: number | undefined;
  private outgoing: Int16Array[] = [];
  private outFill: Int16Array | undefined;
  private dtmfQueue: string[] = [];
  private dtmfNow: { event: number; ts: number; packets: number; gap: number } | undefined;
  private flowing = false;
  private closed = false;
  readonly jitter = new JitterBuffer();
  readonly stats: RtpStats;
  /** Received RFC 4733 events in progress, by timestamp. */
  private rxEventTs: number | undefined;

  private constructor(private readonly socket: Socket, readonly localAddress: string, readonly localPort: number) {
    super();
    this.stats = { sent: 0, received: 0, dtmfSent: 0, jitter: this.jitter.stats };
    socket.on('message', (buf, rinfo) => this.onPacket(buf, rinfo.address, rinfo.port));
    socket.on('error', () => undefined);
  }

  /** Binds to `address` on an even port in [min, max] (0/0: any free port). */
  static async open(address: string, range: { min: number; max: number } = { min: 0, max: 0 }): Promise<RtpSession> {
    const tryBind = (port: number) => new Promise<Socket>((resolve, reject) => {
      const s = createSocket('udp4');
      s.once('error', (e) => {
        s.close();
        reject(e);
      });
      s.bind(port, address, () => resolve(s));
    });
    if (!range.min) {
      const s = await tryBind(0);
      return new RtpSession(s, address, s.address().port);
    }
    const span = Math.max(2, range.max - range.min);
    const start = range.min + 2 * Math.floor((Math.random() * span) / 2);
    for (let i = 0; i < span; i += 2) {
      const port = range.min + ((start - range.min + i) % span);
      try {
        const s = await tryBind(port - (port % 2));
        return new RtpSession(s, address, s.address().port);
      } catch {
        // in use: try the next
      }
    }
    throw new Error(`no free RTP port in ${range.min}-${range.max}`);
  }

  /** Where to send, with the negotiated codec and telephone-event payload type. */
  setRemote(remote: RtpEndpoint, codec: G711, payloadType: number, dtmfPayloadType: number | undefined): void {
    this.remote = remote;
    this.codec = codec;
    this.payloadType = payloadType;
    this.dtmfPt = dtmfPayloadType;
  }

  get hasRemote(): boolean { return this.remote !== undefined; }
  get supportsDtmf(): boolean { return this.dtmfPt !== undefined; }

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
    if (!this.remote) return;
    const pkt = buildRtp({ payloadType: pt, marker, seq: this.seq, timestamp: ts, ssrc: this.ssrc, payload });
    this.seq = (this.seq + 1) & 0xffff;
    this.stats.sent++;
    this.socket.send(pkt, this.remote.port, this.remote.address);
  }

  private onPacket(buf: Buffer, _address: string, _port: number): void {
    const p = parseRtp(buf);
    if (!p || this.closed) return;
    this.stats.received++;
    if (!this.flowing) {
      this.flowing = true;
      this.emit('flowing');
    }
    if (p.payloadType === this.payloadType) {
      this.jitter.push(p.seq, decodeG711(this.codec, p.payload));
    } else if (p.payloadType === 0 || p.payloadType === 8) {
      // Before the answer (or after a codec change) take what arrives.
      this.jitter.push(p.seq, decodeG711(p.payloadType === 0 ? 'PCMU' : 'PCMA', p.payload));
    } else if (this.dtmfPt !== undefined && p.payloadType === this.dtmfPt && p.payload.length >= 4) {
      const end = (p.payload[1] & 0x80) !== 0;
      if (end && this.rxEventTs !== p.timestamp) {
        this.rxEventTs = p.timestamp;
        const digit = DTMF_EVENTS[p.payload[0]];
        if (digit) this.emit('dtmf', digit);
      }
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close();
  }
}
