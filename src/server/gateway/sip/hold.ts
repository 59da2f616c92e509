/**
 * Our side's hold on a confirmed SIP dialog (RFC 3264 §8.4, RFC 6337 §5.3): a re-INVITE whose SDP says `sendonly`
 * (hold) or `sendrecv` (resume) — the same media and codecs, the `o=` version raised (`LocalSdp.offer`). Used by
 * both sides of a call (`OutgoingSipCall`, `IncomingSipCall`).
 *
 * - One re-INVITE at a time; a hold and resume asked for meanwhile are folded into what is wanted when it completes.
 * - 491 Request Pending (glare: both sides re-INVITEd at once) → the same offer again after RFC 3261 §14.1's random
 *   wait (2.1–4 s for the side that created the Call-ID, 0–2 s for the other). While ours is in flight, a far end's
 *   re-INVITE is answered 491 by the dialog (`pending`).
 * - 401/407 → once more with credentials. Any other failure (or no answer) leaves the session as it was
 *   (RFC 3264: a failed offer changes nothing): reported, the call goes on.
 */
import { Authenticator, type Credentials } from './ua.js';
import type { Header, SipRequest, SipResponse } from './message.js';
import { getHeader } from './message.js';
import type { ClientTxHandle, Endpoint, SipStack } from './stack.js';
import { newBranch } from './stack.js';
import type { LocalSdp } from '../media/sdp.js';

/** What a dialog gives its hold: in-dialog requests and who created the Call-ID. */
export interface HoldDialog {
  readonly stack: SipStack;
  /** We sent the dialog's INVITE (so created its Call-ID): the longer 491 back-off. */
  readonly ownsCallId: boolean;
  readonly credentials: Credentials | undefined;
  /** A new in-dialog request (the next CSeq, Contact for INVITE) and where it goes; undefined once the dialog is over. */
  newRequest(method: string, extra?: Header[]): { req: SipRequest; dest: Endpoint } | undefined;
  /** The far end accepted our offer: its answer (the SDP of the 2xx). */
  onAnswer(sdp: Buffer): void;
  /** Our re-INVITE failed (`retrying`: a 491, sent again after the back-off). */
  onFailure(status: number, reason: string, retrying: boolean): void;
}

export class DialogHold {
  /** The hold state of the SDP the far end has (from our last accepted offer, or our last answer). */
  private accepted = false;
  private inFlight: ClientTxHandle | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private closed = false;

  constructor(private readonly dialog: HoldDialog, private readonly local: LocalSdp) {}

  /** Our re-INVITE is in flight: a far end's re-INVITE now is glare (answer it 491). */
  get pending(): boolean { return this.inFlight !== undefined; }
  /** What we want: the browser holds the call. */
  get wanted(): boolean { return this.local.localHold; }

  /** Puts the call on hold (re-INVITE `sendonly`) or resumes it (`sendrecv`), once nothing else is in flight. */
  set(onHold: boolean): void {
    this.local.localHold = onHold;
    this.next();
  }

  /** We answered a far end's offer: that answer carried our current hold state (see `LocalSdp.answer`). */
  answered(): void {
    this.accepted = this.local.localHold;
    this.next();
  }

  /** The dialog was just confirmed (2xx + ACK): a hold asked for before is sent now. */
  confirmed(): void { this.next(); }

  /** The dialog ended: nothing more is sent. */
  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.inFlight?.abandon();
    this.inFlight = undefined;
  }

  private next(): void {
    if (this.closed || this.inFlight || this.retryTimer || this.local.localHold === this.accepted) return;
    this.send(this.local.localHold, new Authenticator(this.dialog.credentials));
  }

  private send(offered: boolean, auth: Authenticator, credentials: Header[] = []): void {
    const made = this.dialog.newRequest('INVITE', [...credentials, ['content-type', 'application/sdp']]);
    if (!made) return; // not confirmed yet (see `confirmed`), or over
    const { req, dest } = made;
    req.body = this.local.offer(offered);
    const stack = this.dialog.stack;
    let ack: SipRequest | undefined;
    let settled = false;
    const done = (): void => {
      settled = true;
      this.inFlight = undefined;
    };
    this.inFlight = stack.request(req, dest, {
      onResponse: (res: SipResponse) => {
        if (res.status < 200) return;
        if (res.status < 300) {
          // A retransmitted 2xx (our ACK was lost) gets the same ACK again.
          ack ??= ackFor(req);
          stack.sendMessage(ack, dest);
          if (settled || this.closed) return;
          done();
          this.accepted = offered;
          if (res.body.length && /application\/sdp/i.test(getHeader(res, 'content-type') ?? '')) this.dialog.onAnswer(res.body);
          this.next();
          return;
        }
        if (settled || this.closed) return;
        done();
        const retry = auth.retry(res, 'INVITE', req.uri);
        if (retry) {
          this.send(offered, auth, retry);
          return;
        }
        if (res.status === 491) {
          this.dialog.onFailure(res.status, res.reason, true);
          const wait = this.dialog.ownsCallId ? 2100 + 10 * Math.floor(Math.random() * 191) : 10 * Math.floor(Math.random() * 201);
          this.retryTimer = setTimeout(() => {
            this.retryTimer = undefined;
            this.next();
          }, wait);
          return;
        }
        this.dialog.onFailure(res.status, res.reason, false);
      },
      onTimeout: () => {
        if (settled || this.closed) return;
        done();
        this.dialog.onFailure(408, 'Request Timeout', false);
      },
    });
  }
}

/** The ACK for a 2xx to an in-dialog INVITE: same CSeq number, a transaction of its own (RFC 3261 §13.2.2.4). */
function ackFor(invite: SipRequest): SipRequest {
  const headers: Header[] = [];
  for (const [k, v] of invite.headers) {
    if (k === 'via') headers.push(['via', v.replace(/branch=[^;,\s]+/, `branch=${newBranch()}`)]);
    else if (k === 'cseq') headers.push(['cseq', v.replace(/INVITE$/i, 'ACK')]);
    else if (k === 'max-forwards' || k === 'from' || k === 'to' || k === 'call-id' || k === 'route' || k.endsWith('authorization')) headers.push([k, v]);
  }
  return { kind: 'request', method: 'ACK', uri: invite.uri, headers, body: Buffer.alloc(0) };
}
