/**
 * RTCP (RFC 3550 §6): sender and receiver reports with an SDES CNAME, BYE, and the reception statistics a report
 * block carries (loss, extended highest sequence number, interarrival jitter, LSR/DLSR). The parser never throws:
 * malformed compounds are `undefined`.
 */

export interface ReportBlock {
  ssrc: number;
  /** Fraction lost since the previous report, 0–255 (/256). */
  fractionLost: number;
  /** Cumulative packets lost (24-bit signed). */
  cumulativeLost: number;
  highestSeq: number;
  /** Interarrival jitter in timestamp units (8 kHz: 1 = 125 µs). */
  jitter: number;
  lsr: number;
  dlsr: number;
}

export type RtcpPacket =
  | { type: 'sr'; ssrc: number; ntp: [number, number]; rtpTimestamp: number; packets: number; octets: number; reports: ReportBlock[] }
  | { type: 'rr'; ssrc: number; reports: ReportBlock[] }
  | { type: 'sdes'; ssrcs: number[] }
  | { type: 'bye'; ssrcs: number[] }
  | { type: 'other'; payloadType: number };

/** Whether a datagram on an RTP port is RTCP (RFC 5761 §4: payload types 200–204 as the second byte). */
export function isRtcp(buf: Buffer): boolean {
  return buf.length >= 8 && buf[0] >> 6 === 2 && buf[1] >= 200 && buf[1] <= 204;
}

function parseBlocks(buf: Buffer, off: number, count: number, end: number): ReportBlock[] | undefined {
  if (off + count * 24 > end) return undefined;
  const out: ReportBlock[] = [];
  for (let i = 0; i < count; i++, off += 24) {
    const lost = buf.readUIntBE(off + 5, 3);
    out.push({
      ssrc: buf.readUInt32BE(off),
      fractionLost: buf[off + 4],
      cumulativeLost: lost & 0x800000 ? lost - 0x1000000 : lost,
      highestSeq: buf.readUInt32BE(off + 8),
      jitter: buf.readUInt32BE(off + 12),
      lsr: buf.readUInt32BE(off + 16),
      dlsr: buf.readUInt32BE(off + 20),
    });
  }
  return out;
}

/** The packets of a compound RTCP datagram; undefined when any is malformed. */
export function parseRtcp(buf: Buffer): RtcpPacket[] | undefined {
  const out: RtcpPacket[] = [];
  let off = 0;
  while (off < buf.length) {
    if (buf.length - off < 4 || buf[off] >> 6 !== 2) return undefined;
    const count = buf[off] & 0x1f;
    const pt = buf[off + 1];
    const end = off + (buf.readUInt16BE(off + 2) + 1) * 4;
    if (end > buf.length) return undefined;
    if (pt === 200) {
      if (end - off < 28) return undefined;
      const reports = parseBlocks(buf, off + 28, count, end);
      if (!reports) return undefined;
      out.push({
        type: 'sr', ssrc: buf.readUInt32BE(off + 4), ntp: [buf.readUInt32BE(off + 8), buf.readUInt32BE(off + 12)],
        rtpTimestamp: buf.readUInt32BE(off + 16), packets: buf.readUInt32BE(off + 20), octets: buf.readUInt32BE(off + 24), reports,
      });
    } else if (pt === 201) {
      if (end - off < 8) return undefined;
      const reports = parseBlocks(buf, off + 8, count, end);
      if (!reports) return undefined;
      out.push({ type: 'rr', ssrc: buf.readUInt32BE(off + 4), reports });
    } else if (pt === 202 || pt === 203) {
      // SDES: only the chunks' SSRCs matter here; BYE: its SSRC list.
      if (off + 4 + count * 4 > end) return undefined;
      const ssrcs: number[] = [];
      if (pt === 203) for (let i = 0; i < count; i++) ssrcs.push(buf.readUInt32BE(off + 4 + i * 4));
      else if (count > 0) ssrcs.push(buf.readUInt32BE(off + 4));
      out.push({ type: pt === 202 ? 'sdes' : 'bye', ssrcs });
    } else {
      out.push({ type: 'other', payloadType: pt });
    }
    off = end;
  }
  return out.length ? out : undefined;
}

/** NTP time now (RFC 3550 §4): seconds since 1900 and the fraction, as two 32-bit words. */
export function ntpNow(now = Date.now()): [number, number] {
  const seconds = Math.floor(now / 1000) + 2_208_988_800;
  const fraction = Math.floor(((now % 1000) / 1000) * 0x1_0000_0000);
  return [seconds >>> 0, fraction >>> 0];
}

function header(count: number, pt: number, words: number): Buffer {
  const b = Buffer.alloc(4);
  b[0] = 0x80 | (count & 0x1f);
  b[1] = pt;
  b.writeUInt16BE(words - 1, 2);
  return b;
}

function block(r: ReportBlock): Buffer {
  const b = Buffer.alloc(24);
  b.writeUInt32BE(r.ssrc >>> 0, 0);
  b[4] = r.fractionLost & 0xff;
  b.writeUIntBE(r.cumulativeLost < 0 ? 0x1000000 + Math.max(r.cumulativeLost, -0x800000) : Math.min(r.cumulativeLost, 0x7fffff), 5, 3);
  b.writeUInt32BE(r.highestSeq >>> 0, 8);
  b.writeUInt32BE(Math.min(r.jitter, 0xffffffff) >>> 0, 12);
  b.writeUInt32BE(r.lsr >>> 0, 16);
  b.writeUInt32BE(r.dlsr >>> 0, 20);
  return b;
}

export interface ReportInput {
  ssrc: number;
  cname: string;
  /** Sender info when we sent RTP since the last report (SR), else a receiver report (RR). */
  sender?: { rtpTimestamp: number; packets: number; octets: number; ntp?: [number, number] };
  blocks: ReportBlock[];
  /** Append a BYE (the stream ends). */
  bye?: boolean;
}

/** A compound RTCP packet: SR or RR, SDES CNAME, and optionally BYE (RFC 3550 §6.1). */
export function buildReport(r: ReportInput): Buffer {
  const parts: Buffer[] = [];
  const blocks = r.blocks.slice(0, 31).map(block);
  if (r.sender) {
    const body = Buffer.alloc(24);
    const [msw, lsw] = r.sender.ntp ?? ntpNow();
    body.writeUInt32BE(r.ssrc >>> 0, 0);
    body.writeUInt32BE(msw, 4);
    body.writeUInt32BE(lsw, 8);
    body.writeUInt32BE(r.sender.rtpTimestamp >>> 0, 12);
    body.writeUInt32BE(r.sender.packets >>> 0, 16);
    body.writeUInt32BE(r.sender.octets >>> 0, 20);
    parts.push(header(blocks.length, 200, 1 + 6 + blocks.length * 6), body, ...blocks);
  } else {
    const body = Buffer.alloc(4);
    body.writeUInt32BE(r.ssrc >>> 0, 0);
    parts.push(header(blocks.length, 201, 2 + blocks.length * 6), body, ...blocks);
  }
  const cname = Buffer.from(r.cname.slice(0, 255), 'utf8').subarray(0, 255);
  const chunkLength = 4 + 2 + cname.length + 1; // SSRC, type + length, text, END
  const padded = Math.ceil(chunkLength / 4) * 4;
  const chunk = Buffer.alloc(padded);
  chunk.writeUInt32BE(r.ssrc >>> 0, 0);
  chunk[4] = 1; // CNAME
  chunk[5] = cname.length;
  cname.copy(chunk, 6);
  parts.push(header(1, 202, 1 + padded / 4), chunk);
  if (r.bye) {
    const ssrc = Buffer.alloc(4);
    ssrc.writeUInt32BE(r.ssrc >>> 0, 0);
    parts.push(header(1, 203, 2), ssrc);
  }
  return Buffer.concat(parts);
}

/** What one received stream looks like, for its report block (RFC 3550 A.1, A.3, A.8). */
export class ReceptionStats {
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private received = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private transit: number | undefined;
  private jitter = 0;
  /** Middle 32 bits of the NTP time of the last SR from this source, and when it arrived (ms). */
  private lastSr: { lsr: number; at: number } | undefined;

  constructor(readonly ssrc: number, seq: number) {
    this.baseSeq = seq;
    this.maxSeq = seq;
  }

  /** A packet arrived at `arrivalMs` (a monotonic clock) with this sequence number and RTP timestamp (8 kHz). */
  update(seq: number, rtpTimestamp: number, arrivalMs: number): void {
    const delta = (seq - this.maxSeq) & 0xffff;
    if (delta < 0x8000 && delta > 0) {
      if (seq < this.maxSeq) this.cycles += 0x10000;
      this.maxSeq = seq;
    }
    this.received++;
    const transit = Math.round(arrivalMs * 8) - rtpTimestamp;
    if (this.transit !== undefined) {
      const d = Math.abs(((transit - this.transit) | 0));
      this.jitter += (d - this.jitter) / 16;
    }
    this.transit = transit;
  }

  senderReport(ntp: [number, number], atMs: number): void {
    this.lastSr = { lsr: (((ntp[0] & 0xffff) << 16) | (ntp[1] >>> 16)) >>> 0, at: atMs };
  }

  block(nowMs: number): ReportBlock {
    const extendedMax = this.cycles + this.maxSeq;
    const expected = extendedMax - this.baseSeq + 1;
    const lost = expected - this.received;
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.received - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.received;
    const lostInterval = expectedInterval - receivedInterval;
    return {
      ssrc: this.ssrc,
      fractionLost: expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval << 8) / expectedInterval)),
      cumulativeLost: lost,
      highestSeq: extendedMax >>> 0,
      jitter: Math.floor(this.jitter),
      lsr: this.lastSr?.lsr ?? 0,
      dlsr: this.lastSr ? Math.floor(((nowMs - this.lastSr.at) / 1000) * 65536) >>> 0 : 0,
    };
  }
}
