/**
 * Writes call detail records from what the signalling server sees. What the server can and cannot see:
 *
 * - **Start** — the caller's PeerJS `OFFER` for the call-control DataConnection carries the invite as metadata. It is
 *   recorded only when the invite's `from` is the authenticated sender's user id (its peer id is the user id or one
 *   of its devices, `<userId> <deviceTag>`) and the offer goes to the peer the invite names (the callee's user id or
 *   one of its devices, or the gateway / conference service for phone, SIP and conference calls). A call that rings
 *   several devices of the callee sends one invite per device with the same call id: one record, whose `calleePeer`
 *   becomes the device that answered. Only that device's reports count; until an answer, only the caller's (and the
 *   callee's when one device was rung), so a device that stops ringing (`otherDeviceAnswered`, its own decline)
 *   does not end the call.
 * - **Unavailable** — an invite offered to a peer that is not online and that no peer answers within PeerServer's
 *   expiry window ends with `unavailable`, by the server.
 * - **Established** — the callee's `ANSWER` to the call's MediaConnection offer (metadata `{ callId }`): PeerJS sends
 *   it only when the callee accepts the call. This is the start of billable time.
 * - **End** — hang-ups travel peer to peer, invisible to the server. Each party's `CallClient` therefore reports the
 *   end over its signalling socket (`{"type":"CALL-END","payload":{"callId","cause","error?"}}`, ignored by stock
 *   PeerServer). The server cross-checks it: only a party of the call may end it; the time is the server's clock; the
 *   cause must agree with what the server saw (`hungUp` needs an answer, else it becomes `canceled` from the caller
 *   or `denied` from the callee; `denied`/`canceled`/`noAnswer`/`unavailable` after an answer become `hungUp`). For phone, SIP and
 *   conference calls only the service (the gateway / conference peer) may end the record, so a client cannot shorten
 *   a billed call.
 *
 * A party off the server for longer than `lostGrace` (30 s) ends its open calls with `signallingLost`, dated when it
 * left; one that reconnects sooner keeps them (media is peer to peer). A record whose parties stay online but never
 * report (e.g. an old client) stays open (`endedAt: null`).
 */
import type { IClient, IMessage } from 'peer';
import { z } from 'zod';
import type { CallEndCause } from '../../core/types.js';
import { CALL_END_MESSAGE, CONFERENCE_PEER_ID, GATEWAY_PEER_ID, parseControlMessage } from '../../core/protocol.js';
import { userOfPeer } from '../../core/devices.js';
import { cleanDisplayName } from '../../core/validation.js';
import type { CallingStorage, CallRecord, RecordedEndCause } from './store.js';


const END_CAUSES = [
  'hungUp', 'denied', 'canceled', 'noAnswer', 'unavailable', 'timeout', 'failure', 'otherDeviceAnswered',
] as const satisfies readonly CallEndCause[];

const callEndReport = z.object({
  callId: z.string().min(1).max(128),
  cause: z.enum(END_CAUSES),
  error: z.object({ domain: z.string().max(32), code: z.string().max(64), message: z.string().max(512) }).optional(),
});

const offerPayload = z.object({
  type: z.enum(['data', 'media']),
  connectionId: z.string().min(1).max(128),
  metadata: z.unknown().optional(),
});
const answerPayload = z.object({ type: z.enum(['data', 'media']), connectionId: z.string().min(1).max(128) });

const SERVICE_TYPES = new Set(['phone', 'sip', 'conference']);

export interface CallRecorderOptions {
  /** How long after an undeliverable invite the call ends as `unavailable` (ms): PeerServer's expiry window. */
  unavailableAfter: number;
  /**
   * How long a party may be off the signalling server before its open calls end with `signallingLost` (ms), dated
   * when it left. Calls are peer to peer and survive a reconnect within this time. Default 30 000.
   */
  lostGrace?: number;
  onError?: (err: unknown) => void;
  /**
   * Whether a peer is signed in (default: on this server). Several nodes pass the cluster's view, so an invite to a
   * callee on another node is not taken for an undeliverable one.
   */
  isOnline?: (peerId: string) => boolean;
}

export class CallRecorder {
  /** Peer ids with an open signalling connection. */
  readonly online = new Set<string>();
  /** connectionId of an invite's DataConnection → the call, until the callee's side answers it. */
  private readonly pendingInvites = new Map<string, { callId: string; timer: ReturnType<typeof setTimeout> | undefined }>();
  /** connectionId of a call's MediaConnection → the call and the peer whose ANSWER establishes it. */
  private readonly mediaOffers = new Map<string, { callId: string; answerer: string }>();
  /** Open calls: the caller's peer id (a device of the caller), how many devices of the callee were invited, and whether one took the invite. */
  private readonly legs = new Map<string, { callerPeer: string; invited: number; reached: boolean }>();
  private closed = false;
  /** Peers that left with calls open: when they left, and the timer that ends those calls. */
  private readonly leaving = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  /**
   * Storage is async: the work for each message runs after the previous one's, so a call's start is written before
   * its answer is looked at, as the messages arrived.
   */
  private queue: Promise<void> = Promise.resolve();

  constructor(private readonly store: CallingStorage, private readonly options: CallRecorderOptions) {}

  /** Resolves when the work for every message seen so far is done (for tests and shutdown). */
  idle(): Promise<void> {
    return this.queue;
  }

  onConnection(client: IClient): void {
    const id = client.getId();
    this.online.add(id);
    const leaving = this.leaving.get(id);
    if (leaving) {
      clearTimeout(leaving.timer);
      this.leaving.delete(id);
    }
  }

  onDisconnect(client: IClient): void {
    const id = client.getId();
    this.online.delete(id);
    if (this.closed || this.leaving.has(id)) return;
    const at = Date.now();
    const timer = setTimeout(() => {
      this.leaving.delete(id);
      this.guard(async () => {
        // The calls this peer takes part in: as the callee's (answering) device, or as the device that placed them.
        const ids = new Set<string>();
        for (const call of await this.store.openCallsOf(id)) {
          if (call.calleePeer === id || (this.legs.get(call.callId)?.callerPeer ?? call.caller) === id) ids.add(call.callId);
        }
        for (const [callId, leg] of this.legs) if (leg.callerPeer === id) ids.add(callId);
        for (const callId of ids) {
          await this.end(callId, { at, cause: 'signallingLost', error: `${id} left the signalling server`, endedBy: 'server' });
        }
      });
    }, this.options.lostGrace ?? 30_000);
    timer.unref();
    this.leaving.set(id, { at, timer });
  }

  onMessage(client: IClient, message: IMessage): void {
    switch (message.type as string) {
      case 'OFFER':
        this.guard(() => this.onOffer(client.getId(), message.dst, message.payload));
        break;
      case 'ANSWER':
        this.guard(() => this.onAnswer(client.getId(), message.payload));
        break;
      case CALL_END_MESSAGE:
        this.guard(() => this.onReport(client.getId(), message.payload));
        break;
      default:
    }
  }

  /**
   * A message relayed from a peer on another server node to a peer on this one (several nodes, see
   * `src/server/cluster`). Offers and reports are recorded on the sender's node; an answer is looked at here, on the
   * node that saw the offer it answers.
   */
  onRelayed(src: string, message: IMessage): void {
    if ((message.type as string) === 'ANSWER') this.guard(() => this.onAnswer(src, message.payload));
  }

  /**
   * The in-process form of a `CALL-END` report, for services that run inside the server's process: same checks as
   * a report over the signalling socket from peer `from` (e.g. `GATEWAY_PEER_ID`).
   */
  reportEnd(from: string, report: { callId: string; cause: CallEndCause; error?: { domain: string; code: string; message: string } }): void {
    this.guard(() => this.onReport(from, report));
  }

  /** Stops recording (the server is shutting down; sockets closing now are not call ends). */
  close(): void {
    this.closed = true;
    for (const { timer } of this.leaving.values()) clearTimeout(timer);
    this.leaving.clear();
    for (const { timer } of this.pendingInvites.values()) clearTimeout(timer);
    this.pendingInvites.clear();
    this.mediaOffers.clear();
    this.legs.clear();
  }

  private async onOffer(src: string, dst: unknown, raw: unknown): Promise<void> {
    const offer = offerPayload.safeParse(raw);
    if (!offer.success || typeof dst !== 'string') return;
    const { type, connectionId, metadata } = offer.data;
    if (type === 'data') {
      const invite = parseControlMessage(metadata);
      if (!invite || invite.type !== 'invite' || invite.from !== userOfPeer(src)) return;
      if (invite.callType === 'user' ? userOfPeer(dst) !== invite.to
        : dst !== (invite.callType === 'conference' ? CONFERENCE_PEER_ID : GATEWAY_PEER_ID)) return;
      const now = Date.now();
      const started = await this.store.callStarted({
        callId: invite.callId, caller: invite.from, callerName: cleanDisplayName(invite.displayName), callee: invite.to, calleePeer: dst, callType: invite.callType, video: invite.video, at: now,
      });
      const leg = this.legs.get(invite.callId);
      if (started) {
        this.legs.set(invite.callId, { callerPeer: src, invited: 1, reached: false });
      } else {
        // Another device of the same callee, invited by the same caller device, for an open call.
        const call = await this.store.getCall(invite.callId);
        if (!leg || leg.callerPeer !== src || !call || call.endedAt !== null || call.callType !== 'user' || call.callee !== invite.to) return;
        leg.invited++;
      }
      // An online callee answers the DataConnection offer at once; an absent one never does. The call is unavailable
      // when no device invited took it.
      const timer = this.isOnline(dst) ? undefined : setTimeout(() => {
        if (this.pendingInvites.get(connectionId)?.callId !== invite.callId) return;
        this.pendingInvites.delete(connectionId);
        const legs = this.legs.get(invite.callId);
        if (legs?.reached || [...this.pendingInvites.values()].some((p) => p.callId === invite.callId)) return;
        this.guard(() => this.end(invite.callId, { at: Date.now(), cause: 'unavailable', error: null, endedBy: 'server' }));
      }, this.options.unavailableAfter);
      timer?.unref();
      this.pendingInvites.set(connectionId, { callId: invite.callId, timer });
      return;
    }
    const callId = isObject(metadata) && typeof metadata.callId === 'string' ? metadata.callId : undefined;
    if (!callId) return;
    const call = await this.store.getCall(callId);
    if (!call || call.endedAt !== null) return;
    const callerPeer = this.legs.get(callId)?.callerPeer ?? call.caller;
    const calleeSide = (peer: string) => (call.callType === 'user' ? userOfPeer(peer) === call.callee : peer === call.calleePeer);
    if (!((src === callerPeer && calleeSide(dst)) || (calleeSide(src) && dst === callerPeer))) return;
    this.mediaOffers.set(connectionId, { callId, answerer: dst });
  }

  private async onAnswer(src: string, raw: unknown): Promise<void> {
    const answer = answerPayload.safeParse(raw);
    if (!answer.success) return;
    const { type, connectionId } = answer.data;
    if (type === 'data') {
      const pending = this.pendingInvites.get(connectionId);
      if (pending) {
        clearTimeout(pending.timer);
        this.pendingInvites.delete(connectionId);
        const legs = this.legs.get(pending.callId);
        if (legs) legs.reached = true;
      }
      return;
    }
    const media = this.mediaOffers.get(connectionId);
    if (!media || media.answerer !== src) return;
    this.mediaOffers.delete(connectionId);
    // The device that answered becomes the record's callee peer (a user's call may have rung several).
    const call = await this.store.getCall(media.callId);
    await this.store.callEstablished(media.callId, Date.now(), call?.callType === 'user' && call.caller !== userOfPeer(src) ? src : undefined);
  }

  private async onReport(src: string, raw: unknown): Promise<void> {
    const report = callEndReport.safeParse(raw);
    if (!report.success) return;
    const { callId, cause, error } = report.data;
    const call = await this.store.getCall(callId);
    if (!call || call.endedAt !== null) return;
    const legs = this.legs.get(callId);
    const fromCaller = legs ? src === legs.callerPeer : userOfPeer(src) === call.caller;
    // The callee side: the device that answered; before an answer only a lone device invited (the caller reports the
    // outcome of a call that rang several), and never a device that merely stopped ringing.
    const fromCallee = src === call.calleePeer && cause !== 'otherDeviceAnswered'
      && (call.establishedAt !== null || call.callType !== 'user' || (legs?.invited ?? 1) <= 1);
    if (!fromCaller && !fromCallee) return;
    // A client may not end a call that a service bills or hosts; the service reports it.
    if (SERVICE_TYPES.has(call.callType) && fromCaller) return;
    await this.end(callId, {
      at: Date.now(),
      cause: crossCheckedCause(call, cause, fromCaller),
      error: error ? `${error.domain}/${error.code}: ${error.message}` : null,
      endedBy: src,
    });
  }

  private async end(callId: string, end: { at: number; cause: RecordedEndCause; error: string | null; endedBy: string }): Promise<void> {
    await this.store.callEnded(callId, end);
    this.legs.delete(callId);
    for (const [connectionId, media] of this.mediaOffers) if (media.callId === callId) this.mediaOffers.delete(connectionId);
    for (const [connectionId, pending] of this.pendingInvites) {
      if (pending.callId !== callId) continue;
      clearTimeout(pending.timer);
      this.pendingInvites.delete(connectionId);
    }
  }

  private isOnline(peer: string): boolean {
    return this.options.isOnline ? this.options.isOnline(peer) : this.online.has(peer);
  }

  /** Queues `fn` behind the work already queued; its errors go to `onError`. */
  private guard(fn: () => Promise<void> | void): void {
    if (this.closed) return;
    this.queue = this.queue.then(async () => {
      if (this.closed) return;
      try {
        await fn();
      } catch (err) {
        this.options.onError?.(err);
      }
    });
  }
}

/** The reported cause, corrected where it contradicts what the server saw. */
function crossCheckedCause(call: CallRecord, cause: CallEndCause, fromCaller: boolean): RecordedEndCause {
  const answered = call.establishedAt !== null;
  if (answered && (cause === 'denied' || cause === 'canceled' || cause === 'noAnswer' || cause === 'unavailable')) return 'hungUp';
  if (!answered && cause === 'hungUp') return fromCaller ? 'canceled' : 'denied';
  return cause;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
