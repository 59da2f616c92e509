/**
 * The SIP call layer on top of `SipStack`: outgoing INVITE dialogs (UAC) with digest authentication (401/407),
 * CANCEL (held until a provisional response arrives, as RFC 3261 §9.1 requires), ACK for 2xx (and for its
 * retransmissions), BYE both ways, and tolerance for re-INVITE/UPDATE/INFO/OPTIONS inside a dialog.
 */
import { EventEmitter } from 'node:events';
import { authorize, parseChallenge } from './digest.js';
import {
  getHeader, getHeaders, parseCSeq, parseNameAddr, stringifyUri, type Header, type SipRequest, type SipResponse,
} from './message.js';
import { newBranch, randomToken, type Endpoint, type ServerTx, type SipStack } from './stack.js';

export interface Credentials { username: string; password: string }

export interface InviteOptions {
  /** Request-URI, e.g. `sip:bob@example.com:5070` or `sip:+14155550101@trunk;user=phone`. */
  requestUri: string;
  /** Where datagrams go: the outbound proxy, the trunk, or the resolved domain. */
  dest: Endpoint;
  /** From user part and display name (our caller). */
  fromUser: string;
  fromDisplay?: string;
  /** Extra headers (already validated `X-` headers). */
  headers?: Header[];
  /** Our SDP offer. */
  sdp: Buffer;
  credentials?: Credentials;
}

export type CallEndKind = 'rejected' | 'bye' | 'timeout' | 'canceled' | 'local';

export interface SipCallEnd {
  kind: CallEndKind;
  by: 'local' | 'remote';
  status?: number;
  reason?: string;
}

export interface SipCallEvents {
  /** 100 Trying (first one). */
  trying: [];
  /** 180/183, with the SDP when it carries early media. */
  progress: [status: number, reason: string, sdp: Buffer | undefined];
  /** 200 OK (ACK sent). */
  answered: [sdp: Buffer];
  /** The remote side re-offered (re-INVITE/UPDATE with SDP); answered with our unchanged SDP. */
  reoffer: [sdp: Buffer];
  end: [SipCallEnd];
}

/** An outgoing SIP call (UAC side of one dialog). */
export class OutgoingSipCall extends EventEmitter<SipCallEvents> {
  readonly callId = `${randomToken(12)}@calling-elements`;
  readonly localTag = randomToken(6);
  private cseq = 1;
  private invite!: SipRequest;
  private state: 'calling' | 'early' | 'confirmed' | 'terminated' = 'calling';
  private remoteTag: string | undefined;
  private remoteTarget: string | undefined;
  private routeSet: string[] = [];
  private ack: SipRequest | undefined;
  private authTried = false;
  private cancelWanted = false;
  private cancelSent = false;
  private gotProvisional = false;
  private ended: SipCallEnd | undefined;
  private lastSdp: Buffer;
  /** Everything that went out and came in for this call (first lines), for tests and diagnostics. */
  readonly trace: string[] = [];

  constructor(private readonly ua: SipUA, private readonly opts: InviteOptions) {
    super();
    this.lastSdp = opts.sdp;
  }

  get isEnded(): boolean { return this.ended !== undefined; }
  get isConfirmed(): boolean { return this.state === 'confirmed'; }

  /** @internal */
  _start(): void {
    this.sendInvite();
  }

  /** Hangs up: CANCEL before the answer (held until a 1xx arrived), BYE after. */
  hangup(): void {
    if (this.state === 'terminated') return;
    if (this.state === 'confirmed') {
      this.sendBye();
      this.finish({ kind: 'local', by: 'local' });
      return;
    }
    this.cancelWanted = true;
    if (this.gotProvisional) this.sendCancel();
    this.finish({ kind: 'canceled', by: 'local' });
  }

  private base(method: string, seq: number, branch = newBranch()): Header[] {
    const o = this.opts;
    const from = `${o.fromDisplay ? `"${o.fromDisplay.replace(/["\\]/g, '')}" ` : ''}<sip:${o.fromUser}@${this.ua.stack.host}:${this.ua.stack.port}>;tag=${this.localTag}`;
    const to = `<${o.requestUri}>${this.remoteTag ? `;tag=${this.remoteTag}` : ''}`;
    return [
      ['via', this.ua.stack.via(branch)],
      ['max-forwards', '70'],
      ['from', from],
      ['to', to],
      ['call-id', this.callId],
      ['cseq', `${seq} ${method}`],
    ];
  }

  private sendInvite(auth?: Header): void {
    const o = this.opts;
    const headers = this.base('INVITE', this.cseq);
    headers.push(['contact', `<sip:${o.fromUser}@${this.ua.stack.host}:${this.ua.stack.port}>`]);
    headers.push(['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE']);
    headers.push(['user-agent', 'calling-elements-gateway']);
    if (auth) headers.push(auth);
    headers.push(...(o.headers ?? []));
    headers.push(['content-type', 'application/sdp']);
    this.invite = { kind: 'request', method: 'INVITE', uri: o.requestUri, headers, body: o.sdp };
    this.trace.push(`> INVITE ${o.requestUri}`);
    this.ua.stack.request(this.invite, o.dest, {
      onResponse: (res) => this.onInviteResponse(res),
      onTimeout: () => this.fail({ kind: 'timeout', by: 'remote', status: 408, reason: 'Request Timeout' }),
    });
  }

  private onInviteResponse(res: SipResponse): void {
    this.trace.push(`< ${res.status} ${res.reason}`);
    const tag = parseNameAddr(getHeader(res, 'to') ?? '')?.params.tag ?? undefined;
    if (res.status < 200) {
      if (res.status > 100 || !this.gotProvisional) {
        const first = !this.gotProvisional;
        this.gotProvisional = true;
        if (this.cancelWanted && !this.cancelSent) this.sendCancel();
        if (this.state === 'calling' && res.status > 100) this.state = 'early';
        if (this.ended) return;
        if (res.status === 100 && first) this.emit('trying');
        else if (res.status > 100) this.emit('progress', res.status, res.reason, isSdp(res) ? res.body : undefined);
      }
      return;
    }
    if (res.status < 300) {
      if (this.ack && tag === this.remoteTag) {
        // A retransmitted 2xx: our ACK was lost.
        this.ua.stack.sendMessage(this.ack, this.dialogDest());
        return;
      }
      if (this.ack) {
        // A 2xx from another fork: ACK and BYE it.
        return;
      }
      this.remoteTag = tag ?? undefined;
      const contact = parseNameAddr(getHeaders(res, 'contact')[0] ?? '');
      this.remoteTarget = contact ? stringifyUri(contact.uri) : this.opts.requestUri;
      this.routeSet = getHeaders(res, 'record-route').reverse();
      const seq = parseCSeq(getHeader(res, 'cseq'))?.seq ?? this.cseq;
      const headers = this.base('ACK', seq);
      for (const r of this.routeSet) headers.push(['route', r]);
      this.ack = { kind: 'request', method: 'ACK', uri: this.remoteTarget, headers, body: Buffer.alloc(0) };
      this.trace.push('> ACK');
      this.ua.stack.sendMessage(this.ack, this.dialogDest());
      if (this.ended) {
        // The answer raced our CANCEL: the call exists now, so end it properly.
        this.state = 'confirmed';
        this.sendBye();
        this.state = 'terminated';
        return;
      }
      this.state = 'confirmed';
      this.ua._register(this);
      this.emit('answered', res.body);
      return;
    }
    if ((res.status === 401 || res.status === 407) && this.opts.credentials && !this.authTried && !this.ended) {
      const challenge = parseChallenge(getHeader(res, res.status === 401 ? 'www-authenticate' : 'proxy-authenticate') ?? '');
      if (challenge) {
        this.authTried = true;
        this.cseq++;
        const { username, password } = this.opts.credentials;
        const value = authorize(challenge, 'INVITE', this.opts.requestUri, username, password);
        this.gotProvisional = false;
        this.sendInvite([res.status === 401 ? 'authorization' : 'proxy-authorization', value]);
        return;
      }
    }
    if (res.status === 487 && this.cancelSent) {
      this.fail({ kind: 'canceled', by: 'local', status: 487, reason: res.reason });
      return;
    }
    this.fail({ kind: 'rejected', by: 'remote', status: res.status, reason: res.reason });
  }

  private sendCancel(): void {
    if (this.cancelSent) return;
    this.cancelSent = true;
    const via = getHeaders(this.invite, 'via')[0];
    const headers: Header[] = [['via', via]];
    for (const [k, v] of this.invite.headers) if (k === 'route' || k === 'max-forwards' || k === 'from' || k === 'to' || k === 'call-id') headers.push([k, v]);
    headers.push(['cseq', `${parseCSeq(getHeader(this.invite, 'cseq'))?.seq ?? this.cseq} CANCEL`]);
    const cancel: SipRequest = { kind: 'request', method: 'CANCEL', uri: this.invite.uri, headers, body: Buffer.alloc(0) };
    this.trace.push('> CANCEL');
    this.ua.stack.request(cancel, this.opts.dest, { onResponse: () => undefined, onTimeout: () => undefined });
  }

  private sendBye(): void {
    if (this.state !== 'confirmed' || !this.remoteTarget) return;
    this.cseq++;
    const headers = this.base('BYE', this.cseq);
    for (const r of this.routeSet) headers.push(['route', r]);
    const bye: SipRequest = { kind: 'request', method: 'BYE', uri: this.remoteTarget, headers, body: Buffer.alloc(0) };
    this.trace.push('> BYE');
    this.ua.stack.request(bye, this.dialogDest(), {
      onResponse: (res) => this.trace.push(`< ${res.status} ${res.reason} (BYE)`),
      onTimeout: () => this.trace.push('BYE timed out'),
    });
    this.ua._unregister(this);
  }

  /** Where in-dialog requests go: the outbound proxy/first route if any, else the remote target. */
  private dialogDest(): Endpoint {
    if (this.ua.outboundProxy) return this.ua.outboundProxy;
    const first = this.routeSet[0] ? parseNameAddr(this.routeSet[0])?.uri : undefined;
    const target = first ?? (this.remoteTarget ? parseNameAddr(`<${this.remoteTarget}>`)?.uri : undefined);
    if (target && /^[\d.]+$/.test(target.host)) return { host: target.host, port: target.port ?? 5060 };
    return this.opts.dest;
  }

  /** @internal An in-dialog request from the remote side. */
  _onRequest(req: SipRequest, tx: ServerTx): void {
    this.trace.push(`< ${req.method}`);
    switch (req.method) {
      case 'BYE':
        tx.respond(200, 'OK');
        this.ua._unregister(this);
        this.finish({ kind: 'bye', by: 'remote' });
        this.state = 'terminated';
        return;
      case 'INVITE':
      case 'UPDATE':
        // Re-INVITE / UPDATE (session refresh, hold, codec change): keep our session, answer with our SDP.
        if (isSdp(req)) this.emit('reoffer', req.body);
        tx.respond(200, 'OK', {
          headers: [['contact', `<sip:${this.opts.fromUser}@${this.ua.stack.host}:${this.ua.stack.port}>`], ['content-type', 'application/sdp']],
          body: this.lastSdp,
        });
        return;
      case 'ACK':
        return;
      default:
        tx.respond(200, 'OK');
    }
  }

  private fail(end: SipCallEnd): void {
    this.state = 'terminated';
    this.finish(end);
  }

  private finish(end: SipCallEnd): void {
    if (this.ended) return;
    this.ended = end;
    this.emit('end', end);
  }
}

function isSdp(m: SipRequest | SipResponse): boolean {
  return m.body.length > 0 && /application\/sdp/i.test(getHeader(m, 'content-type') ?? '');
}

export interface SipUAOptions {
  /** Every request goes here instead of the target's domain (e.g. a SIP proxy / SBC). */
  outboundProxy?: Endpoint;
  /** Incoming out-of-dialog requests (INVITE for users, OPTIONS…). Default: OPTIONS 200, others 405/481. */
  onRequest?: (req: SipRequest, tx: ServerTx) => boolean;
}

/** Anything that owns a dialog and takes its in-dialog requests. */
export interface DialogOwner {
  readonly callId: string;
  readonly localTag: string;
  _onRequest(req: SipRequest, tx: ServerTx): void;
}

/** The user agent: creates outgoing calls and routes in-dialog requests to them. */
export class SipUA {
  readonly outboundProxy: Endpoint | undefined;
  private readonly dialogs = new Map<string, DialogOwner>();

  constructor(readonly stack: SipStack, private readonly options: SipUAOptions = {}) {
    this.outboundProxy = options.outboundProxy;
    stack.on('request', (req, tx) => this.onRequest(req, tx));
  }

  invite(opts: InviteOptions): OutgoingSipCall {
    const call = new OutgoingSipCall(this, { ...opts, dest: this.outboundProxy ?? opts.dest });
    this.dialogs.set(call.callId, call);
    call.once('end', (e) => {
      if (e.kind !== 'local' && e.kind !== 'canceled') this.dialogs.delete(call.callId);
      // Canceled calls stay reachable for a while: a racing 2xx or 487 still needs its ACK.
      else setTimeout(() => this.dialogs.get(call.callId) === call && !call.isConfirmed && this.dialogs.delete(call.callId), 32_000).unref();
    });
    call._start();
    return call;
  }

  /** @internal */
  _register(call: DialogOwner): void { this.dialogs.set(call.callId, call); }
  /** @internal */
  _unregister(call: DialogOwner): void {
    setTimeout(() => this.dialogs.get(call.callId) === call && this.dialogs.delete(call.callId), 5000).unref();
  }

  get activeDialogs(): number { return this.dialogs.size; }

  private onRequest(req: SipRequest, tx: ServerTx): void {
    const call = this.dialogs.get(getHeader(req, 'call-id') ?? '');
    const toTag = parseNameAddr(getHeader(req, 'to') ?? '')?.params.tag;
    if (call && toTag === call.localTag) {
      call._onRequest(req, tx);
      return;
    }
    if (req.method === 'ACK') return;
    if (this.options.onRequest?.(req, tx)) return;
    if (req.method === 'OPTIONS') tx.respond(200, 'OK', { headers: [['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE']] });
    else if (toTag) tx.respond(481, 'Call/Transaction Does Not Exist');
    else if (req.method === 'CANCEL') tx.respond(481, 'Call/Transaction Does Not Exist');
    else tx.respond(405, 'Method Not Allowed', { headers: [['allow', 'ACK, BYE, OPTIONS, INFO, UPDATE']] });
  }
}
