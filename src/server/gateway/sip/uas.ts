/**
 * An incoming SIP call (UAS side of one dialog): provisional and final responses to the INVITE, CANCEL (200 + 487),
 * BYE both ways, re-INVITE / UPDATE answered in the offered direction (hold). The gateway rings an app user for it
 * (see `gateway.ts`). A call that came over TCP stays on TCP.
 */
import { EventEmitter } from 'node:events';
import { getHeader, getHeaders, parseCSeq, parseNameAddr, stringifyUri, type Header, type SipRequest } from './message.js';
import { LocalSdp } from '../media/sdp.js';
import { DialogHold } from './hold.js';
import { newBranch, randomToken, type Endpoint, type ServerTx } from './stack.js';
import type { SipCallEvents, SipUA } from './ua.js';

export interface IncomingSipCallEvents {
  /** The caller canceled (CANCEL) or hung up (BYE), or the INVITE transaction failed. */
  end: [{ by: 'remote' | 'local'; kind: 'canceled' | 'bye' | 'local' }];
  /** The caller re-offered (re-INVITE / UPDATE with SDP). */
  reoffer: [sdp: Buffer];
  /** The caller put the call on hold (`sendonly`/`inactive`) or took it off hold. */
  hold: [onHold: boolean];
  reanswer: SipCallEvents['reanswer'];
  holdFailed: SipCallEvents['holdFailed'];
}

export class IncomingSipCall extends EventEmitter<IncomingSipCallEvents> {
  readonly callId: string;
  readonly localTag = randomToken(6);
  readonly offer: Buffer;
  /** The caller as `sip:user@host`, and its display name. */
  readonly from: string;
  readonly fromDisplay: string | undefined;
  /** The called user part of the Request-URI. */
  readonly toUser: string;
  private state: 'ringing' | 'confirmed' | 'terminated' = 'ringing';
  private cseq = 1;
  private answerSdp: LocalSdp | undefined;
  private localHold: DialogHold | undefined;

  constructor(private readonly ua: SipUA, readonly invite: SipRequest, private readonly tx: ServerTx) {
    super();
    this.callId = getHeader(invite, 'call-id') ?? randomToken(8);
    this.offer = invite.body;
    const from = parseNameAddr(getHeader(invite, 'from') ?? '');
    this.from = from ? `sip:${from.uri.user ?? ''}@${from.uri.host}` : 'sip:unknown@invalid';
    this.fromDisplay = from?.display;
    this.toUser = parseNameAddr(`<${invite.uri}>`)?.uri.user ?? '';
    ua._register(this);
  }

  get isRinging(): boolean { return this.state === 'ringing'; }

  ringing(): void {
    if (this.state === 'ringing') this.tx.respond(180, 'Ringing', { toTag: this.localTag, headers: [['contact', this.contact()]] });
  }

  answer(sdp: Buffer): void {
    if (this.state !== 'ringing') return;
    this.state = 'confirmed';
    this.answerSdp = new LocalSdp(sdp);
    this.localHold = new DialogHold({
      stack: this.ua.stack, ownsCallId: false, credentials: undefined,
      newRequest: (method, extra) => this.inDialog(method, extra),
      onAnswer: (answer) => this.emit('reanswer', answer),
      onFailure: (status, reason, retrying) => this.emit('holdFailed', status, reason, retrying),
    }, this.answerSdp);
    this.tx.respond(200, 'OK', { toTag: this.localTag, headers: [['contact', this.contact()], ['content-type', 'application/sdp']], body: sdp });
  }

  /** Before the answer: a final failure response (e.g. 486 Busy Here, 480, 603). */
  reject(status: number, reason: string): void {
    if (this.state !== 'ringing') return;
    this.state = 'terminated';
    this.tx.respond(status, reason, { toTag: this.localTag });
    this.ua._unregister(this);
  }

  /**
   * After the answer: puts the call on hold (re-INVITE with `a=sendonly`) or resumes it (`a=sendrecv`); see
   * `DialogHold`. Before the answer: nothing.
   */
  setHold(onHold: boolean): void { this.localHold?.set(onHold); }

  /** After the answer: BYE; before it: 480. */
  hangup(): void {
    if (this.state === 'ringing') {
      this.reject(480, 'Temporarily Unavailable');
      this.emit('end', { by: 'local', kind: 'local' });
      return;
    }
    const bye = this.inDialog('BYE');
    if (!bye) return;
    this.terminate();
    this.ua.stack.request(bye.req, bye.dest, { onResponse: () => undefined, onTimeout: () => undefined });
    this.emit('end', { by: 'local', kind: 'local' });
  }

  /** A new request in the confirmed dialog (the next CSeq; Contact on INVITE) and where it goes. */
  private inDialog(method: string, extra: Header[] = []): { req: SipRequest; dest: Endpoint } | undefined {
    if (this.state !== 'confirmed') return undefined;
    const inv = this.invite;
    const remote = parseNameAddr(getHeaders(inv, 'contact')[0] ?? '');
    const target = remote ? stringifyUri(remote.uri) : inv.uri;
    const headers: Header[] = [
      ['via', this.ua.stack.via(newBranch())],
      ['max-forwards', '70'],
      ['from', `${getHeader(inv, 'to') ?? ''};tag=${this.localTag}`],
      ['to', getHeader(inv, 'from') ?? ''],
      ['call-id', this.callId],
      ['cseq', `${this.cseq++} ${method}`],
    ];
    for (const r of getHeaders(inv, 'record-route')) headers.push(['route', r]);
    if (method === 'INVITE') headers.push(['contact', this.contact()]);
    headers.push(...extra);
    const tcp = this.tx.source.transport === 'tcp' || remote?.uri.params.transport?.toLowerCase() === 'tcp';
    const dest: Endpoint = remote && /^[\d.]+$/.test(remote.uri.host)
      ? { host: remote.uri.host, port: remote.uri.port ?? 5060, ...(tcp ? { transport: 'tcp' as const } : {}) }
      : this.tx.source;
    return { req: { kind: 'request', method, uri: target, headers, body: Buffer.alloc(0) }, dest: this.ua.outboundProxy ?? dest };
  }

  /** The dialog is over (BYE either way). */
  private terminate(): void {
    this.state = 'terminated';
    this.localHold?.close();
    this.ua._unregister(this);
  }

  /** @internal CANCEL for our INVITE (matched by the gateway on Call-ID). */
  _cancel(cancelTx: ServerTx): void {
    cancelTx.respond(200, 'OK');
    if (this.state !== 'ringing') return;
    this.state = 'terminated';
    this.tx.respond(487, 'Request Terminated', { toTag: this.localTag });
    this.ua._unregister(this);
    this.emit('end', { by: 'remote', kind: 'canceled' });
  }

  /** @internal in-dialog requests */
  _onRequest(req: SipRequest, tx: ServerTx): void {
    switch (req.method) {
      case 'ACK':
        return;
      case 'BYE':
        tx.respond(200, 'OK');
        if (this.state === 'terminated') return;
        this.terminate();
        this.emit('end', { by: 'remote', kind: 'bye' });
        return;
      case 'INVITE':
      case 'UPDATE': {
        // Before our answer, or glare with our own re-INVITE (RFC 3261 §14.2).
        if (!this.answerSdp || this.localHold?.pending) {
          tx.respond(491, 'Request Pending');
          return;
        }
        const offer = req.body.length && /application\/sdp/i.test(getHeader(req, 'content-type') ?? '') ? req.body : undefined;
        const wasOnHold = this.answerSdp.onHold;
        const answer = this.answerSdp.answer(offer);
        tx.respond(200, 'OK', { headers: [['contact', this.contact()], ['content-type', 'application/sdp']], body: answer.sdp });
        if (offer) this.emit('reoffer', offer);
        if (answer.onHold !== wasOnHold) this.emit('hold', answer.onHold);
        this.localHold?.answered();
        return;
      }
      default:
        tx.respond(200, 'OK');
    }
  }

  private contact(): string {
    const tcp = this.tx.source.transport === 'tcp' ? ';transport=tcp' : '';
    return `<sip:${this.toUser || 'gateway'}@${this.ua.stack.host}:${this.ua.stack.port}${tcp}>`;
  }

  /** @internal CSeq of the INVITE (for matching its CANCEL). */
  get _inviteSeq(): number | undefined { return parseCSeq(getHeader(this.invite, 'cseq'))?.seq; }
}
