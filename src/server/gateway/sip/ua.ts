/**
 * The SIP call layer on top of `SipStack`: outgoing INVITE dialogs (UAC) with digest authentication (401/407 on the
 * INVITE and on in-dialog requests such as BYE; the strongest offered algorithm; `stale=true` retried once with the
 * new nonce), CANCEL (held until a provisional response arrives, as RFC 3261 §9.1 requires; it goes with the
 * INVITE it cancels, the authenticated one after a challenge — RFC 3261 §22.1: CANCEL itself is never challenged),
 * ACK for 2xx (and for its retransmissions), BYE both ways, and re-INVITE/UPDATE/INFO/OPTIONS inside a dialog.
 */
import { EventEmitter } from 'node:events';
import { authorize, pickChallenge, type Challenge } from './digest.js';
import {
  getHeader, getHeaders, parseCSeq, parseNameAddr, stringifyUri, type Header, type SipRequest, type SipResponse,
} from './message.js';
import { LocalSdp } from '../media/sdp.js';
import { DialogHold } from './hold.js';
import { newBranch, randomToken, T1, type ClientTxHandle, type Endpoint, type ServerTx, type SipStack, type Transport } from './stack.js';

export interface Credentials { username: string; password: string }

export interface InviteOptions {
  /** Request-URI, e.g. `sip:bob@example.com:5070` or `sip:+14155550101@trunk;user=phone`. */
  requestUri: string;
  /**
   * Where datagrams go: the outbound proxy, the trunk, or the resolved domain. Several targets (RFC 3263: SRV
   * records in order) are tried in turn when one times out, cannot be reached or answers 503.
   */
  dest: Endpoint | Endpoint[];
  /** From user part and display name (our caller). */
  fromUser: string;
  fromDisplay?: string;
  /** Extra headers (already validated `X-` headers). */
  headers?: Header[];
  /** Our SDP offer. */
  sdp: Buffer;
  credentials?: Credentials;
}

/**
 * With another target left, a target that sends nothing at all (not even 100 Trying) within this time is given up
 * for the next (RFC 3263 §4.3). Timer B (32 s) would leave the caller in silence far too long; 4 s is eight UDP
 * retransmission intervals' worth (T1 · 2³).
 */
export const FAILOVER_TIMEOUT = 8 * T1;

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
  /** The remote side re-offered (re-INVITE/UPDATE with SDP); answered with our SDP in the matching direction. */
  reoffer: [sdp: Buffer];
  /** The remote side put the call on hold (`sendonly`/`inactive`) or took it off hold. */
  hold: [onHold: boolean];
  /** The far end accepted our re-INVITE (`setHold`): the SDP of its answer. */
  reanswer: [sdp: Buffer];
  /** Our re-INVITE (`setHold`) failed; `retrying` after a 491 (glare). The call goes on either way. */
  holdFailed: [status: number, reason: string, retrying: boolean];
  /** A target failed (timeout, unreachable, 503) and the next one is tried. */
  failover: [from: Endpoint, to: Endpoint, why: string];
  end: [SipCallEnd];
}

/**
 * Answers digest challenges for one request (and its retries): each challenging realm once, a `stale=true`
 * challenge once more with the new nonce (RFC 7616 §3.3), and the credentials for every realm answered so far
 * (a proxy's 407 and then the far end's 401).
 */
export class Authenticator {
  private readonly answered = new Map<string, Challenge>();
  private staleRetried = false;
  private nc = 0;

  constructor(private readonly credentials: Credentials | undefined) {}

  /** The authorization headers for a retry of `method` on `uri` after `res`, or undefined when it must not be retried. */
  retry(res: SipResponse, method: string, uri: string): Header[] | undefined {
    if (!this.credentials || (res.status !== 401 && res.status !== 407)) return undefined;
    const name = res.status === 401 ? 'www-authenticate' : 'proxy-authenticate';
    const challenge = pickChallenge(res.headers.filter(([k]) => k === name).map(([, v]) => v));
    if (!challenge) return undefined;
    const key = `${res.status} ${challenge.realm}`;
    if (this.answered.has(key)) {
      if (!challenge.stale || this.staleRetried) return undefined;
      this.staleRetried = true;
    }
    this.answered.set(key, challenge);
    return this.headers(method, uri);
  }

  private headers(method: string, uri: string): Header[] {
    const { username, password } = this.credentials!;
    this.nc++;
    return [...this.answered].map(([key, ch]): Header => [
      key.startsWith('401') ? 'authorization' : 'proxy-authorization', authorize(ch, method, uri, username, password, this.nc),
    ]);
  }
}

/** An outgoing SIP call (UAC side of one dialog). */
export class OutgoingSipCall extends EventEmitter<SipCallEvents> {
  readonly callId = `${randomToken(12)}@calling-elements`;
  readonly localTag = randomToken(6);
  private cseq = 1;
  private invite!: SipRequest;
  private inviteTx: ClientTxHandle | undefined;
  private state: 'calling' | 'early' | 'confirmed' | 'terminated' = 'calling';
  private remoteTag: string | undefined;
  private remoteTarget: string | undefined;
  private routeSet: string[] = [];
  private ack: SipRequest | undefined;
  private readonly auth: Authenticator;
  private readonly targets: Endpoint[];
  private target = 0;
  private failoverTimer: ReturnType<typeof setTimeout> | undefined;
  private cancelWanted = false;
  private cancelSent = false;
  private gotProvisional = false;
  private gotResponse = false;
  private ended: SipCallEnd | undefined;
  private readonly localSdp: LocalSdp;
  private readonly localHold: DialogHold;
  private onHold = false;
  /** Everything that went out and came in for this call (first lines), for tests and diagnostics. */
  readonly trace: string[] = [];

  constructor(private readonly ua: SipUA, private readonly opts: InviteOptions) {
    super();
    this.localSdp = new LocalSdp(opts.sdp);
    this.localHold = new DialogHold({
      stack: ua.stack, ownsCallId: true, credentials: opts.credentials,
      newRequest: (method, extra) => this.inDialog(method, extra),
      onAnswer: (sdp) => this.emit('reanswer', sdp),
      onFailure: (status, reason, retrying) => {
        this.trace.push(`re-INVITE failed: ${status} ${reason}`);
        this.emit('holdFailed', status, reason, retrying);
      },
    }, this.localSdp);
    this.auth = new Authenticator(opts.credentials);
    this.targets = Array.isArray(opts.dest) ? opts.dest : [opts.dest];
    if (this.targets.length === 0) throw new Error('no target to send the INVITE to');
  }

  get isEnded(): boolean { return this.ended !== undefined; }
  get isConfirmed(): boolean { return this.state === 'confirmed'; }
  /** The target the current INVITE went to. */
  get dest(): Endpoint { return this.targets[this.target]; }
  /** The transport the INVITE went over (TCP when the target asked for it or the INVITE was too large for UDP). */
  get transport(): Transport { return this.inviteTx?.transport ?? this.dest.transport ?? 'udp'; }

  /** @internal */
  _start(): void {
    this.sendInvite();
  }

  /**
   * Puts the answered call on hold (re-INVITE with `a=sendonly`) or resumes it (`a=sendrecv`); see `DialogHold`.
   * Before the answer nothing is sent (the wish is kept for the next re-offer's answer).
   */
  setHold(onHold: boolean): void { this.localHold.set(onHold); }

  /** Hangs up: CANCEL before the answer (held until a 1xx arrived), BYE after. */
  hangup(): void {
    if (this.state === 'terminated') return;
    if (this.state === 'confirmed') {
      this.sendInDialog('BYE');
      this.ua._unregister(this);
      this.finish({ kind: 'local', by: 'local' });
      return;
    }
    this.cancelWanted = true;
    if (this.gotProvisional) this.sendCancel();
    this.finish({ kind: 'canceled', by: 'local' });
  }

  private contact(): string {
    const tcp = this.dest.transport === 'tcp' ? ';transport=tcp' : '';
    return `<sip:${this.opts.fromUser}@${this.ua.stack.host}:${this.ua.stack.port}${tcp}>`;
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

  private sendInvite(auth: Header[] = []): void {
    const o = this.opts;
    const headers = this.base('INVITE', this.cseq);
    headers.push(['contact', this.contact()]);
    headers.push(['allow', 'INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, UPDATE']);
    headers.push(['user-agent', 'calling-elements-gateway']);
    headers.push(...auth);
    headers.push(...(o.headers ?? []));
    headers.push(['content-type', 'application/sdp']);
    this.invite = { kind: 'request', method: 'INVITE', uri: o.requestUri, headers, body: o.sdp };
    this.trace.push(`> INVITE ${o.requestUri}`);
    this.gotResponse = false;
    const dest = this.dest;
    const tx = this.ua.stack.request(this.invite, dest, {
      onResponse: (res) => {
        if (this.inviteTx !== tx) return;
        this.gotResponse = true;
        if (this.failoverTimer) clearTimeout(this.failoverTimer);
        this.onInviteResponse(res);
      },
      onTimeout: (why) => {
        if (this.inviteTx !== tx) return;
        if (!this.failover(why ?? 'no response')) this.fail({ kind: 'timeout', by: 'remote', status: 408, reason: 'Request Timeout' });
      },
    });
    this.inviteTx = tx;
    if (this.target < this.targets.length - 1) {
      this.failoverTimer = setTimeout(() => {
        if (this.inviteTx === tx && !this.gotResponse) this.failover(`no response within ${FAILOVER_TIMEOUT} ms`);
      }, FAILOVER_TIMEOUT);
    }
  }

  /** Tries the next target (RFC 3263 §4.3); false when there is none or the call ended. */
  private failover(why: string): boolean {
    if (this.ended || this.target >= this.targets.length - 1) return false;
    this.inviteTx?.abandon();
    const from = this.dest;
    this.target++;
    this.trace.push(`failover ${from.host}:${from.port} → ${this.dest.host}:${this.dest.port} (${why})`);
    this.emit('failover', from, this.dest, why);
    this.cseq++;
    this.gotProvisional = false;
    this.sendInvite();
    return true;
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
        this.sendInDialog('BYE');
        this.state = 'terminated';
        return;
      }
      this.state = 'confirmed';
      this.ua._register(this);
      this.emit('answered', res.body);
      this.localHold.confirmed();
      return;
    }
    if (!this.ended) {
      const auth = this.auth.retry(res, 'INVITE', this.opts.requestUri);
      if (auth) {
        this.cseq++;
        this.gotProvisional = false;
        this.sendInvite(auth);
        return;
      }
    }
    if (res.status === 487 && this.cancelSent) {
      this.fail({ kind: 'canceled', by: 'local', status: 487, reason: res.reason });
      return;
    }
    if (res.status === 503 && this.failover('503 Service Unavailable')) return;
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
    this.ua.stack.request(cancel, { ...this.dest, transport: this.transport }, { onResponse: () => undefined, onTimeout: () => undefined });
  }

  /** Sends an in-dialog request (BYE…), answering a digest challenge once (a fresh CSeq with credentials). */
  private sendInDialog(method: string, auth = new Authenticator(this.opts.credentials), credentials: Header[] = []): void {
    const made = this.inDialog(method, credentials);
    if (!made) return;
    const { req, dest } = made;
    this.ua.stack.request(req, dest, {
      onResponse: (res) => {
        this.trace.push(`< ${res.status} ${res.reason} (${method})`);
        const retry = auth.retry(res, method, this.remoteTarget ?? req.uri);
        if (!retry) return;
        // The dialog is over for us already (BYE): send the authorized retry as if it were still up.
        const state = this.state;
        this.state = 'confirmed';
        this.sendInDialog(method, auth, retry);
        this.state = state;
      },
      onTimeout: () => this.trace.push(`${method} timed out`),
    });
  }

  /** A new in-dialog request (the next CSeq; Contact on INVITE) and where it goes; undefined unless confirmed. */
  private inDialog(method: string, extra: Header[] = []): { req: SipRequest; dest: Endpoint } | undefined {
    if (this.state !== 'confirmed' || !this.remoteTarget) return undefined;
    this.cseq++;
    const headers = this.base(method, this.cseq);
    for (const r of this.routeSet) headers.push(['route', r]);
    if (method === 'INVITE') headers.push(['contact', this.contact()]);
    headers.push(...extra);
    this.trace.push(`> ${method}`);
    return { req: { kind: 'request', method, uri: this.remoteTarget, headers, body: Buffer.alloc(0) }, dest: this.dialogDest() };
  }

  /** Where in-dialog requests go: the outbound proxy/first route if any, else the remote target. */
  private dialogDest(): Endpoint {
    if (this.ua.outboundProxy) return this.ua.outboundProxy;
    const first = this.routeSet[0] ? parseNameAddr(this.routeSet[0])?.uri : undefined;
    const target = first ?? (this.remoteTarget ? parseNameAddr(`<${this.remoteTarget}>`)?.uri : undefined);
    if (target && /^[\d.]+$/.test(target.host)) {
      const tcp = target.params.transport?.toLowerCase() === 'tcp' || this.transport === 'tcp';
      return { host: target.host, port: target.port ?? 5060, ...(tcp ? { transport: 'tcp' as const } : {}) };
    }
    return { ...this.dest, transport: this.transport };
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
      case 'UPDATE': {
        // Re-INVITE / UPDATE (session refresh, hold, codec change): keep our session, answer in the offered direction.
        if (this.localHold.pending) {
          tx.respond(491, 'Request Pending'); // glare: our own re-INVITE is in flight (RFC 3261 §14.2)
          return;
        }
        const offer = isSdp(req) ? req.body : undefined;
        const answer = this.localSdp.answer(offer);
        tx.respond(200, 'OK', { headers: [['contact', this.contact()], ['content-type', 'application/sdp']], body: answer.sdp });
        if (offer) this.emit('reoffer', offer);
        this.localHold.answered();
        if (offer && answer.onHold !== this.onHold) {
          this.onHold = answer.onHold;
          this.emit('hold', answer.onHold);
        }
        return;
      }
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
    if (this.failoverTimer) clearTimeout(this.failoverTimer);
    this.localHold.close();
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
