/**
 * SIP over UDP and TCP: the transports and the transaction layer (RFC 3261 §17) with retransmissions and timers,
 * plus the RFC 6026 "accepted" state so 2xx retransmissions reach the dialog layer.
 *
 * Transport (RFC 3261 §18): a request goes over TCP when its target says so (`transport=tcp`) or when it is larger
 * than 1300 bytes (§18.1.1; an INVITE with 1 KB of `X-` headers is) — back to UDP if the TCP connection is refused.
 * Both listen on the same port; responses to a request that came over TCP go back on its connection. Over TCP
 * nothing is retransmitted (Timers A, E, G are for UDP only); Timers B and F still bound a transaction.
 *
 * Client INVITE: Timer A (T1, doubling) until a response, Timer B (64·T1) → local 408; non-2xx finals are ACKed
 * here (same branch) and their retransmissions absorbed. Client non-INVITE: Timer E (T1 → T2), Timer F → timeout.
 * Server transactions: retransmitted requests get the last response again; INVITE finals are retransmitted until
 * the ACK arrives (for 2xx, the ACK is matched by Call-ID and CSeq number, as it has its own branch).
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, connect, type Server, type Socket as TcpSocket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import {
  getHeader, getHeaders, parseCSeq, parseMessage, parseVia, serialize, type Header, type SipMessage, type SipRequest, type SipResponse,
} from './message.js';

export type Transport = 'udp' | 'tcp';
export interface Endpoint { host: string; port: number; transport?: Transport }

/** RFC 3261 §18.1.1: larger requests go over a congestion-controlled transport (TCP). */
export const UDP_MAX_REQUEST = 1300;

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
  /** No response in time (Timer B / F), or the request could not be sent (`why` says so). */
  onTimeout(why?: string): void;
}

/** A client transaction as its owner sees it. */
export interface ClientTxHandle {
  /** The transport the request went over. */
  readonly transport: Transport;
  /** Stops retransmitting and forgets the transaction (its owner moved on, e.g. to the next RFC 3263 target). */
  abandon(): void;
}

interface ClientTx {
  key: string;
  request: SipRequest;
  dest: Endpoint;
  handler: ClientTxHandler;
  state: 'calling' | 'proceeding' | 'completed' | 'accepted' | 'terminated';
  timers: Array<ReturnType<typeof setTimeout>>;
  transport: Transport;
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
      if (rq.method === 'INVITE' && this.source.transport === 'tcp') {
        if (status < 300) this.stack._await2xxAck(this);
      } else if (rq.method === 'INVITE') {
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
    if (this.last && !this.done && this.source.transport !== 'tcp') this.stack.sendBuffer(this.last, this.source);
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
  /** UDP and TCP port; 0 picks one (free for both). Default 5060. */
  port?: number;
  /** Listen on TCP too (and send large requests over it). Default true. */
  tcp?: boolean;
  /** Address written into Via/Contact/SDP when binding 0.0.0.0 (the address peers reach us at). */
  publicHost?: string;
  /** Test hook: drop the first N outgoing datagrams whose first line matches (loss simulation). */
  dropOutgoing?: { match: RegExp; count: number };
}

function txKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

/**
 * Splits a TCP byte stream into SIP messages (RFC 3261 §18.3: Content-Length frames them). Linear in the bytes
 * received however they are chunked (a peer sending one byte at a time must not cost quadratic work).
 */
export class StreamFramer {
  private buf: Buffer = Buffer.alloc(0);
  private len = 0;
  /** Where the search for the end of the headers resumes. */
  private scanned = 0;
  static readonly MAX_MESSAGE = 65_536;

  /** The complete messages the chunk finished; undefined when the stream cannot be framed (close the connection). */
  push(chunk: Buffer): Buffer[] | undefined {
    if (this.len + chunk.length > this.buf.length) {
      const grown = Buffer.alloc(Math.max(this.buf.length * 2, this.len + chunk.length, 4096));
      this.buf.copy(grown, 0, 0, this.len);
      this.buf = grown;
    }
    chunk.copy(this.buf, this.len);
    this.len += chunk.length;
    const out: Buffer[] = [];
    let start = 0;
    for (;;) {
      while (start + 1 < this.len && this.buf[start] === 13 && this.buf[start + 1] === 10) start += 2; // keep-alive CRLFs
      const view = this.buf.subarray(start, this.len);
      const end = view.indexOf('\r\n\r\n', Math.max(0, this.scanned - start - 3));
      if (end < 0) {
        this.scanned = this.len;
        break;
      }
      const head = view.subarray(0, end).toString('latin1');
      const cl = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)[ \t]*$/im.exec(head);
      const length = cl ? Number(cl[1]) : 0;
      if (length > StreamFramer.MAX_MESSAGE) return undefined;
      if (view.length < end + 4 + length) {
        this.scanned = start + end;
        break;
      }
      out.push(Buffer.from(view.subarray(0, end + 4 + length)));
      start += end + 4 + length;
      this.scanned = start;
    }
    if (start > 0) {
      this.buf.copy(this.buf, 0, start, this.len);
      this.len -= start;
      this.scanned = Math.max(0, this.scanned - start);
    }
    return this.len > StreamFramer.MAX_MESSAGE ? undefined : out;
  }
}

interface TcpConnection { socket: TcpSocket; ready: boolean; queue: Array<{ buf: Buffer; onError?: (e: Error) => void }> }

/** Inbound TCP connections kept at once (a SIP scanner must not exhaust file descriptors). */
const MAX_TCP_CONNECTIONS = 512;
/** Idle TCP connections are closed after this long. */
const TCP_IDLE_MS = 5 * 60_000;

export class SipStack extends EventEmitter<SipStackEvents> {
  readonly host: string;
  readonly port: number;
  /** Datagrams and stream messages that could not be parsed (dropped). */
  malformed = 0;
  private readonly client = new Map<string, ClientTx>();
  private readonly server = new Map<string, ServerTx>();
  private readonly awaiting2xxAck = new Map<string, ServerTx>();
  private readonly connections = new Map<string, TcpConnection>();
  private closed = false;

  private constructor(
    private readonly socket: Socket, private readonly tcp: Server | undefined, host: string, port: number, private readonly options: SipStackOptions,
  ) {
    super();
    this.host = host;
    this.port = port;
    socket.on('message', (buf, rinfo) => this.onDatagram(buf, { host: rinfo.address, port: rinfo.port }));
    socket.on('error', (e) => this.emit('error', e));
    tcp?.on('connection', (s) => {
      if (this.connections.size >= MAX_TCP_CONNECTIONS || !s.remoteAddress || !s.remotePort) {
        s.destroy();
        return;
      }
      this.adopt(s, { host: s.remoteAddress.replace(/^::ffff:/, ''), port: s.remotePort, transport: 'tcp' }, true);
    });
    tcp?.on('error', (e) => this.emit('error', e));
  }

  static async create(options: SipStackOptions = {}): Promise<SipStack> {
    const bind = options.host ?? '127.0.0.1';
    const want = options.port ?? 5060;
    // Port 0: the UDP port the OS picks must be free on TCP too; try a few.
    for (let attempt = 0; ; attempt++) {
      const socket = createSocket({ type: bind.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(want, bind, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      const port = socket.address().port;
      if (options.tcp === false) return new SipStack(socket, undefined, options.publicHost ?? bind, port, options);
      const server = createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(port, bind, () => {
            server.off('error', reject);
            resolve();
          });
        });
        return new SipStack(socket, server, options.publicHost ?? bind, port, options);
      } catch (e) {
        socket.close();
        if (want !== 0 || attempt >= 20) throw e;
      }
    }
  }

  /** `SIP/2.0/UDP host:port;branch=…;rport` for a new request (the transport is set when it is sent). */
  via(branch = newBranch(), transport: Transport = 'udp'): string {
    return `SIP/2.0/${transport.toUpperCase()} ${this.host}:${this.port};branch=${branch};rport`;
  }

  /** Open TCP connections (inbound and outbound). */
  get tcpConnections(): number { return this.connections.size; }

  /** Sends a request in a new client transaction. The request must carry its top Via. */
  request(req: SipRequest, dest: Endpoint, handler: ClientTxHandler): ClientTxHandle {
    const via = parseVia(getHeaders(req, 'via')[0] ?? '');
    const branch = via?.params.branch;
    if (!branch) throw new Error('request without a Via branch');
    let transport: Transport = dest.transport ?? 'udp';
    let buf = this.withTransport(req, transport);
    const bySize = !dest.transport && this.tcp !== undefined && buf.length > UDP_MAX_REQUEST;
    if (bySize) {
      transport = 'tcp';
      buf = this.withTransport(req, transport);
    }
    if (req.method === 'ACK') {
      this.sendBuffer(buf, { ...dest, transport });
      return { transport, abandon: () => undefined };
    }
    const tx: ClientTx = { key: txKey(branch, req.method), request: req, dest, handler, state: 'calling', timers: [], transport };
    this.client.set(tx.key, tx);
    const isInvite = req.method === 'INVITE';
    const startUdp = () => {
      let interval = T1;
      const retransmit = () => {
        if (tx.state === 'calling' || (!isInvite && tx.state === 'proceeding')) {
          this.sendBuffer(buf, dest);
          interval = isInvite ? interval * 2 : Math.min(interval * 2, T2);
          tx.timers.push(setTimeout(retransmit, tx.state === 'proceeding' ? T2 : interval));
        }
      };
      tx.timers.push(setTimeout(retransmit, interval));
    };
    if (transport === 'tcp') {
      this.sendBuffer(buf, { ...dest, transport }, (e) => {
        if (tx.state !== 'calling') return;
        if (bySize) {
          // §18.1.1: the far end takes no TCP; the request goes over UDP after all.
          tx.transport = 'udp';
          buf = this.withTransport(req, 'udp');
          this.sendBuffer(buf, dest);
          startUdp();
          return;
        }
        this.terminate(tx);
        handler.onTimeout(`TCP connection to ${dest.host}:${dest.port} failed: ${e.message}`);
      });
    } else {
      this.sendBuffer(buf, dest);
      startUdp();
    }
    tx.timers.push(setTimeout(() => {
      if (tx.state === 'calling' || (!isInvite && tx.state === 'proceeding')) {
        this.terminate(tx);
        handler.onTimeout();
      }
    }, 64 * T1));
    return { get transport() { return tx.transport; }, abandon: () => this.terminate(tx) };
  }

  /** The request serialized with its top Via naming `transport`. */
  private withTransport(req: SipRequest, transport: Transport): Buffer {
    const i = req.headers.findIndex(([k]) => k === 'via');
    const value = req.headers[i][1].replace(/^(\s*SIP\s*\/\s*2\.0\s*\/\s*)\w+/i, `$1${transport.toUpperCase()}`);
    req.headers[i] = ['via', value];
    return serialize(req);
  }

  /** Sends a message outside transactions (ACK for 2xx, stateless replies). */
  sendMessage(m: SipMessage, dest: Endpoint): void {
    if (m.kind === 'request' && getHeaders(m, 'via').length) this.sendBuffer(this.withTransport(m, dest.transport ?? 'udp'), dest);
    else this.sendBuffer(serialize(m), dest);
  }

  /** @internal */
  sendBuffer(buf: Buffer, dest: Endpoint, onError?: (e: Error) => void): void {
    if (this.closed) return;
    const drop = this.options.dropOutgoing;
    if (drop && drop.count > 0) {
      const first = buf.subarray(0, Math.max(0, buf.indexOf('\r\n'))).toString();
      if (drop.match.test(first)) {
        drop.count--;
        return;
      }
    }
    if (dest.transport === 'tcp') {
      this.sendTcp(buf, dest, onError);
      return;
    }
    this.socket.send(buf, dest.port, dest.host, (err) => {
      if (err) {
        this.emit('error', err);
        onError?.(err);
      }
    });
  }

  private sendTcp(buf: Buffer, dest: Endpoint, onError?: (e: Error) => void): void {
    const key = `${dest.host}:${dest.port}`;
    let conn = this.connections.get(key);
    if (!conn) {
      if (!this.tcp) {
        onError?.(new Error('TCP is off'));
        return;
      }
      conn = this.adopt(connect({ host: dest.host, port: dest.port }), { ...dest, transport: 'tcp' }, false);
    }
    if (conn.ready) conn.socket.write(buf);
    else conn.queue.push({ buf, ...(onError ? { onError } : {}) });
  }

  /** Reads SIP messages from a TCP connection (accepted or opened by us) and keeps it for sending. */
  private adopt(socket: TcpSocket, peer: Endpoint, ready: boolean): TcpConnection {
    const key = `${peer.host}:${peer.port}`;
    const conn: TcpConnection = { socket, ready, queue: [] };
    this.connections.set(key, conn);
    const framer = new StreamFramer();
    socket.setNoDelay(true);
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    socket.on('connect', () => {
      conn.ready = true;
      for (const q of conn.queue) socket.write(q.buf);
      conn.queue = [];
    });
    socket.on('data', (chunk: Buffer) => {
      const messages = framer.push(chunk);
      if (!messages) {
        this.malformed++;
        socket.destroy();
        return;
      }
      for (const m of messages) this.onMessage(m, peer);
    });
    socket.on('error', (e) => {
      for (const q of conn.queue) q.onError?.(e);
      conn.queue = [];
    });
    socket.on('close', () => {
      if (this.connections.get(key) === conn) this.connections.delete(key);
      const e = new Error('connection closed');
      for (const q of conn.queue) q.onError?.(e);
      conn.queue = [];
    });
    return conn;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const tx of this.client.values()) for (const t of tx.timers) clearTimeout(t);
    this.client.clear();
    for (const tx of this.server.values()) tx._acked();
    for (const c of this.connections.values()) c.socket.destroy();
    this.connections.clear();
    await Promise.all([
      new Promise<void>((r) => this.socket.close(() => r())),
      this.tcp ? new Promise<void>((r) => this.tcp!.close(() => r())) : Promise.resolve(),
    ]);
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
    this.onMessage(buf, from);
  }

  private onMessage(buf: Buffer, from: Endpoint): void {
    const m = parseMessage(buf);
    if (!m) {
      this.malformed++;
      return;
    }
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
    this.sendMessage(this.ackFor(tx.request, res), { ...tx.dest, transport: tx.transport });
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
    if (!via || !parseCSeq(getHeader(req, 'cseq')) || !getHeader(req, 'call-id')) {
      this.malformed++;
      return;
    }
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
