/** The small SDP subset a G.711 gateway needs (RFC 4566 / 3264): one audio stream, PCMU/PCMA and telephone-event. */

export type G711 = 'PCMU' | 'PCMA';

export interface AudioOffer {
  address: string;
  port: number;
  sessionId: string;
  version: number;
  codecs: G711[];
  dtmfPayloadType: number;
}

export interface RemoteAudio {
  address: string;
  port: number;
  codec: G711;
  payloadType: number;
  /** RFC 4733 payload type when the remote side supports it. */
  dtmfPayloadType?: number;
  direction: Direction;
  /** RTCP port (`a=rtcp:`, RFC 3605), else RTP port + 1. */
  rtcpPort: number;
}

export type Direction = 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';

const STATIC: Record<G711, number> = { PCMU: 0, PCMA: 8 };

export function buildSdp(o: AudioOffer): Buffer {
  const pts = [...o.codecs.map((c) => STATIC[c]), o.dtmfPayloadType];
  const lines = [
    'v=0',
    `o=calling-elements ${o.sessionId} ${o.version} IN IP4 ${o.address}`,
    's=calling-elements',
    `c=IN IP4 ${o.address}`,
    't=0 0',
    `m=audio ${o.port} RTP/AVP ${pts.join(' ')}`,
    ...o.codecs.map((c) => `a=rtpmap:${STATIC[c]} ${c}/8000`),
    `a=rtpmap:${o.dtmfPayloadType} telephone-event/8000`,
    `a=fmtp:${o.dtmfPayloadType} 0-16`,
    'a=ptime:20',
    'a=sendrecv',
  ];
  return Buffer.from(lines.join('\r\n') + '\r\n');
}

/** Reads the remote audio stream from an SDP answer (or early-media SDP). Undefined when no usable G.711. */
export function parseSdp(body: Buffer, accept: readonly G711[] = ['PCMU', 'PCMA']): RemoteAudio | undefined {
  const lines = body.toString('utf8').split(/\r?\n/);
  let sessionAddr: string | undefined;
  let mediaAddr: string | undefined;
  let port: number | undefined;
  let pts: number[] = [];
  let inAudio = false;
  let direction: Direction | undefined;
  let sessionDirection: Direction = 'sendrecv';
  let rtcpPort: number | undefined;
  const rtpmap = new Map<number, string>();
  for (const l of lines) {
    if (l.startsWith('m=')) {
      const m = /^m=(\w+) (\d+)(?:\/\d+)? RTP\/AVP ([\d ]+)$/.exec(l.trim());
      inAudio = !!m && m[1] === 'audio' && port === undefined;
      if (inAudio && m) {
        port = Number(m[2]);
        pts = m[3].trim().split(/\s+/).map(Number);
      }
      continue;
    }
    const c = /^c=IN IP4 (\S+)/.exec(l);
    if (c) {
      if (inAudio) mediaAddr = c[1];
      else if (port === undefined) sessionAddr = c[1];
      continue;
    }
    const d = /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/.exec(l);
    if (d && port === undefined) sessionDirection = d[1] as Direction;
    if (!inAudio) continue;
    const r = /^a=rtpmap:(\d+) ([\w-]+)\/(\d+)/.exec(l);
    if (r) rtpmap.set(Number(r[1]), `${r[2].toUpperCase()}/${r[3]}`);
    if (d) direction = d[1] as Direction;
    const rc = /^a=rtcp:(\d+)/.exec(l);
    if (rc && Number(rc[1]) > 0 && Number(rc[1]) < 65536) rtcpPort = Number(rc[1]);
  }
  const address = mediaAddr ?? sessionAddr;
  if (!address || port === undefined || port === 0 || port > 65535) return undefined;
  const nameOf = (pt: number) => rtpmap.get(pt) ?? (pt === 0 ? 'PCMU/8000' : pt === 8 ? 'PCMA/8000' : '');
  let chosen: { codec: G711; pt: number } | undefined;
  for (const pt of pts) {
    const name = nameOf(pt);
    const codec = name === 'PCMU/8000' ? 'PCMU' : name === 'PCMA/8000' ? 'PCMA' : undefined;
    if (codec && accept.includes(codec)) {
      chosen = { codec, pt };
      break;
    }
  }
  if (!chosen) return undefined;
  const dtmf = pts.find((pt) => nameOf(pt) === 'TELEPHONE-EVENT/8000');
  return {
    address, port, codec: chosen.codec, payloadType: chosen.pt,
    // c=0.0.0.0 is the RFC 2543 way of saying hold.
    direction: address === '0.0.0.0' ? 'inactive' : direction ?? sessionDirection,
    rtcpPort: rtcpPort ?? port + 1,
    ...(dtmf !== undefined ? { dtmfPayloadType: dtmf } : {}),
  };
}

/** Whether the far end, offering or answering `direction`, stops listening to us (hold: `sendonly` or `inactive`). */
export function isHold(direction: Direction): boolean {
  return direction === 'sendonly' || direction === 'inactive';
}

const ANSWER_DIRECTION: Record<Direction, Direction> = { sendrecv: 'sendrecv', sendonly: 'recvonly', recvonly: 'sendonly', inactive: 'inactive' };
/** A direction without its receiving half (we hold: we take no media), and one from both sides' hold. */
const NO_RECV: Record<Direction, Direction> = { sendrecv: 'sendonly', sendonly: 'sendonly', recvonly: 'inactive', inactive: 'inactive' };

/**
 * The direction of our SDP (RFC 3264 §8.4) from both sides' hold: we hold → `sendonly` (`inactive` while the far end
 * holds us too); the far end holds us → `recvonly`; neither → `sendrecv`.
 */
export function holdDirection(localHold: boolean, remoteHold: boolean): Direction {
  const d: Direction = remoteHold ? 'recvonly' : 'sendrecv';
  return localHold ? NO_RECV[d] : d;
}

/**
 * Our SDP across a dialog's re-offers (re-INVITE / UPDATE), both ways: the answer to a far end's offer keeps our
 * media and codecs but mirrors the offered direction (RFC 3264 §6.1: `sendonly` → `recvonly`, `inactive` →
 * `inactive`), our own offer (`offer()`, for our hold) says `sendonly` / `sendrecv`; the `o=` version is raised
 * whenever the SDP changes (RFC 3264 §8).
 */
export class LocalSdp {
  private current: Buffer;
  private direction: Direction = 'sendrecv';
  private version: number;
  /** The far end holds us (its last offer said `sendonly` or `inactive`). */
  onHold = false;
  /** We hold the far end (the browser put the call on hold): our SDP takes no media. */
  localHold = false;

  constructor(sdp: Buffer) {
    this.current = sdp;
    this.version = Number(/^o=\S+ \S+ (\d+)/m.exec(sdp.toString('latin1'))?.[1] ?? 1);
  }

  get sdp(): Buffer { return this.current; }

  /** The answer to a re-offer (none: an offerless re-INVITE, answered with our current SDP as the offer). */
  answer(offer: Buffer | undefined): { sdp: Buffer; onHold: boolean } {
    if (!offer) return { sdp: this.current, onHold: this.onHold };
    const remote = parseSdp(offer);
    const offered: Direction = remote?.direction ?? 'sendrecv';
    this.onHold = isHold(offered);
    const mirrored = ANSWER_DIRECTION[offered];
    this.setDirection(this.localHold ? NO_RECV[mirrored] : mirrored);
    return { sdp: this.current, onHold: this.onHold };
  }

  /** Our offer for a re-INVITE that puts the call on hold (`localHold`) or resumes it: same media, new direction. */
  offer(localHold: boolean): Buffer {
    this.localHold = localHold;
    this.setDirection(holdDirection(localHold, this.onHold));
    return this.current;
  }

  private setDirection(direction: Direction): void {
    if (direction === this.direction) return;
    this.direction = direction;
    this.version++;
    const text = this.current.toString('utf8')
      .replace(/^a=(sendrecv|sendonly|recvonly|inactive)(?=\r?$)/m, `a=${direction}`)
      .replace(/^(o=\S+ \S+ )\d+/m, `$1${this.version}`);
    this.current = Buffer.from(text);
  }
}
