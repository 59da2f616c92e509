/**
 * SIP over UDP: the transport and the transaction layer (RFC 3261 §17) with retransmissions and timers, plus the
 * RFC 6026 "accepted" state so 2xx retransmissions reach the dialog layer.
 *
 * Client INVITE: Timer A (T1, doubling) until a response, Timer B (64·T1) → local 408; non-2xx finals are ACKed
 * here (same branch) and their retransmissions absorbed. Client non-INVITE: Timer E (T1 → T2), Timer F → timeout.
 * Server transactions: retransmitted requests get the last response again; INVITE finals are retransmitted until
 * the ACK arrives (for 2xx, the ACK is matched by Call-ID and CSeq number, as it has its own branch).
 */
import { createSocket, type Socket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  getHeader, getHeaders, parseCSeq, parseMessage, parseVia, serialize, type Header, type SipMessage, type SipRequest, type SipResponse,
} from './message.js';

export interface Endpoint { host: string; port: number }

export const T1 = 500;
export const T2 = 4000;

export function randomToken(bytes = 8): string {
  return randomBytes(bytes).toString('hex');
}
/** RFC 3261 magic cookie + 64 random bits (npm `sip` used only 6 random digits). */
export function newBranch(): string {
  return `z9hG4bK${randomToken(8)}`;
}

export interface ClientTxHandler {
  onResponse(res: SipResponse): void;
  /** No response in time (Timer B / F), or the datagram could not be sent. */
  onTimeout(): void;
}

interface ClientTx {
  key: string;
  request: SipRequest;
  dest: Endpoint;
  handler: ClientTxHandler;
  state: 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
  timers: Array<ReturnType<typeof setTimeout>>;
}

/** A request we received, to be answered with `respond()`. */
export class ServerTx {
  private last: Buffer | undefined;
  private retransmit: ReturnType<typeof setTimeout> | undefined;
  private done = false;
  /** Set by the UA for responses that create a To tag (e.g. the dialog's local tag). */
  constructor(
    private readonly stack: SipStack,
    readonly request: SipRequest,
    readonly source: Endpoint,
  ) {}

  get answered(): boolean { return this.last !== undefined && this.finalSent; }
  private finalSent = false;

  /** Sends a response; `toTag` is added to To when it has none. */
  respond(status: number, reason: string, options: { toTag?: string; headers?: Header[]; body?: Buffer } = {}): void {
    if (this.finalSent) return;
    const rq = this.request;
    const headers: Header[] = [];
    for (const [k, v] of rq.headers) {
      if (k === 'via' || k === 'from' || k === 'call-id' || k === 'cseq') headers.push([k, v]);
      else if (k === 'to') headers.push([k, options.toTag && !/;\s*tag=/i.test(v) && status > 100 ? `${v};tag=${options.toTag}` : v]);
      else if (k === 'record-route' && status >= 200 && status < 300) headers.push([k, v]);
    }
    headers.push(...(options.headers ?? []));
    const res: SipResponse = { kind: 'response', status, reason, headers, body: options.body ?? Buffer.alloc(0) };
    this.last = serialize(res);
    this.stack.sendBuffer(this.last, this.source);
    if (status >= 200) {
      this.finalSent = true;
      if (rq.method === 'INVITE') {
        // Retransmit until the ACK (Timer G), give up after 64·T1 (Timer H).
        let interval = T1;
        const started = Date.now();
        const again = () => {
          if (this.done || Date.now() - started > 64 * T1) return;
          if (this.last) this.stack.sendBuffer(this.last, this.source);
          interval = Math.min(interval * 2, T2);
          this.retransmit = setTimeout(again, interval);
        };
        this.retransmit = setTimeout(again, interval);
        if (status < 300) this.stack._await2xxAck(this);
      }
      setTimeout(() => this.stack._forget(this), 64 * T1).unref();
    }
  }

  /** @internal a retransmitted request arrived */
  _retransmitted(): void {
    if (this.last && !this.done) this.stack.sendBuffer(this.last, this.source);
  }

  /** @internal the ACK arrived: stop retransmitting */
  _acked(): void {
    this.done = true;
    if (this.retransmit) clearTimeout(this.retransmit);
  }
}

export interface SipStackEvents {
  /** A new request outside any transaction (BYE, re-INVITE, INVITE, CANCEL, OPTIONS, 2xx ACK…). */
  request: [SipRequest, ServerTx];
  /** A response matching no transaction (e.g. a late 2xx retransmission). */
  response: [SipResponse, Endpoint];
  error: [Error];
}

export interface SipStackOptions {
  /** Address to bind. Default 127.0.0.1. */
  host?: string;
  /** UDP port; 0 picks one. Default 5060. */
  port?: number;
  /** Address written into Via/Contact/SDP when binding 0.0.0.0 (the address peers reach us at). */
  publicHost?: string;
  /** Test hook: drop the first N outgoing datagrams whose first line matches (loss simulation). */
  dropOutgoing?: { match: RegExp; count: number };
}

function txKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

export class SipStack extends EventEmitter<SipStackEvents> {
  readonly host: string;
  readonly port: number;
  private readonly client = new Map<string, ClientTx>();
  private readonly server = new Map<string, ServerTx>();
  private readonly awaiting2xxAck = new Map<string, ServerTx>();
  private closed = false;

  private constructor(private readonly socket: Socket, host: string, port: number, private readonly options: SipStackOptions) {
    super();
    this.host = host;
    this.port = port;
    socket.on('message', (buf, rinfo) => this.onDatagram(buf, { host: rinfo.address, port: rinfo.port }));
    socket.on('error', (e) => this.emit('error', e));
  }

  static async create(options: SipStackOptions = {}): Promise<SipStack> {
    const bind = options.host ?? '127.0.0.1';
    const socket = createSocket({ type: bind.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port ?? 5060, bind, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const port = socket.address().port;
    return new SipStack(socket, options.publicHost ?? bind, port, options);
  }

  /** `SIP/2.0/UDP host:port;branch=…;rport` for a new request. */
  via(branch = newBranch()): string {
    return `SIP/2.0/UDP ${this.host}:${this.port};branch=${branch};rport`;
  }

  /** Sends a request in a new client transaction. The request must carry its top Via. */
  request(req: SipRequest, dest: Endpoint, handler: ClientTxHandler): void {
    const via = parseVia(getHeaders(req, 'via')[0] ?? '');
    const branch = via?.params.branch;
    if (!branch) throw new Error('request without a Via branch');
    if (req.method === 'ACK') {
      this.sendMessage(req, dest);
      return;
    }
    const tx: ClientTx = { key: txKey(branch, req.method), request: req, dest, handler, state: 'calling', timers: [] };
    this.client.set(tx.key, tx);
    const buf = serialize(req);
    this.sendBuffer(buf, dest);
    const isInvite = req.method === 'INVITE';
    let interval = T1;
    const retransmit = () => {
      if (tx.state === 'calling' || (!isInvite && tx.state === 'proceeding')) {
        this.sendBuffer(buf, dest);
        interval = isInvite ? interval * 2 : Math.min(interval * 2, T2);
        tx.timers.push(setTimeout(retransmit, tx.state === 'proceeding' ? T2 : interval));
      }
    };
    tx.timers.push(setTimeout(retransmit, interval));
    tx.timers.push(setTimeout(() => {
      if (tx.state === 'calling' || (!isInvite && tx.state === 'proceeding')) {
        this.terminate(tx);
        handler.onTimeout();
      }
    }, 64 * T1));
  }

  /** Sends a message outside transactions (ACK for 2xx, stateless replies). */
  sendMessage(m: SipMessage, dest: Endpoint): void {
    this.sendBuffer(serialize(m), dest);
  }

  /** @internal */
  sendBuffer(buf: Buffer, dest: Endpoint): void {
    if (this.closed) return;
    const drop = this.options.dropOutgoing;
    if (drop && drop.count > 0) {
      const first = buf.subarray(0, Math.max(0, buf.indexOf('\r\n'))).toString();
      if (drop.match.test(first)) {
        drop.count--;
        return;
      }
    }
    this.socket.send(buf, dest.port, dest.host, (err) => {
      if (err) this.emit('error', err);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const tx of this.client.values()) for (const t of tx.timers) clearTimeout(t);
    this.client.clear();
    for (const tx of this.server.values()) tx._acked();
    await new Promise<void>((r) => this.socket.close(() => r()));
  }

  /** @internal */
  _await2xxAck(tx: ServerTx): void {
    const key = `${getHeader(tx.request, 'call-id')}|${parseCSeq(getHeader(tx.request, 'cseq'))?.seq}`;
    this.awaiting2xxAck.set(key, tx);
    setTimeout(() => this.awaiting2xxAck.delete(key), 64 * T1).unref();
  }

  /** @internal */
  _forget(tx: ServerTx): void {
    for (const [k, v] of this.server) if (v === tx) this.server.delete(k);
  }

  private terminate(tx: ClientTx): void {
    tx.state = 'terminated';
    for (const t of tx.timers) clearTimeout(t);
    tx.timers = [];
    this.client.delete(tx.key);
  }

  private onDatagram(buf: Buffer, from: Endpoint): void {
    if (buf.length <= 4) return; // keep-alive CRLFs
    const m = parseMessage(buf);
    if (!m) return;
    if (m.kind === 'response') this.onResponse(m, from);
    else this.onRequest(m, from);
  }

  private onResponse(res: SipResponse, from: Endpoint): void {
    const via = parseVia(getHeaders(res, 'via')[0] ?? '');
    const cseq = parseCSeq(getHeader(res, 'cseq'));
    const tx = via?.params.branch && cseq ? this.client.get(txKey(via.params.branch, cseq.method)) : undefined;
    if (!tx) {
      this.emit('response', res, from);
      return;
    }
    const isInvite = tx.request.method === 'INVITE';
    if (res.status < 200) {
      if (tx.state === 'calling' || tx.state === 'proceeding') {
        tx.state = 'proceeding';
        tx.handler.onResponse(res);
      }
      return;
    }
    if (!isInvite) {
      if (tx.state === 'calling' || tx.state === 'proceeding') {
        this.terminate(tx);
        tx.handler.onResponse(res);
      }
      return;
    }
    if (res.status < 300) {
      // Accepted (RFC 6026): every 2xx (also retransmissions, also forked) goes to the dialog layer, which ACKs.
      if (tx.state !== 'accepted') {
        for (const t of tx.timers) clearTimeout(t);
        tx.timers = [setTimeout(() => this.terminate(tx), 64 * T1)];
        tx.state = 'accepted';
      }
      tx.handler.onResponse(res);
      return;
    }
    // Non-2xx final: ACK it here (same branch), absorb retransmissions.
    this.sendMessage(this.ackFor(tx.request, res), tx.dest);
    if (tx.state === 'calling' || tx.state === 'proceeding') {
      for (const t of tx.timers) clearTimeout(t);
      tx.state = 'completed';
      tx.timers = [setTimeout(() => this.terminate(tx), 64 * T1)];
      tx.handler.onResponse(res);
    }
  }

  /** The ACK for a non-2xx final response (RFC 3261 §17.1.1.3). */
  private ackFor(invite: SipRequest, res: SipResponse): SipRequest {
    const headers: Header[] = [];
    headers.push(['via', getHeaders(invite, 'via')[0]]);
    for (const [k, v] of invite.headers) if (k === 'route' || k === 'from' || k === 'call-id' || k === 'max-forwards') headers.push([k, v]);
    headers.push(['to', getHeader(res, 'to') ?? getHeader(invite, 'to') ?? '']);
    headers.push(['cseq', `${parseCSeq(getHeader(invite, 'cseq'))?.seq ?? 1} ACK`]);
    return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: Buffer.alloc(0) };
  }

  private onRequest(req: SipRequest, from: Endpoint): void {
    const via = parseVia(getHeaders(req, 'via')[0] ?? '');
    if (!via) return;
    const branch = via.params.branch ?? `${getHeader(req, 'call-id')}|${getHeader(req, 'cseq')}`;
    const key = txKey(branch, req.method);
    const existing = this.server.get(key);
    if (req.method === 'ACK') {
      if (existing) {
        existing._acked();
        return;
      }
      const ackKey = `${getHeader(req, 'call-id')}|${parseCSeq(getHeader(req, 'cseq'))?.seq}`;
      const waiting = this.awaiting2xxAck.get(ackKey);
      if (waiting) {
        waiting._acked();
        this.awaiting2xxAck.delete(ackKey);
      }
      this.emit('request', req, new ServerTx(this, req, from));
      return;
    }
    if (existing) {
      existing._retransmitted();
      return;
    }
    // Responses go back where the request came from (symmetric, as rport asks).
    const tx = new ServerTx(this, req, from);
    this.server.set(key, tx);
    this.emit('request', req, tx);
  }
}
