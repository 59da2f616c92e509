import type { DataConnection, MediaConnection } from 'peerjs';
import { assertNever } from './assert-never.js';
import { CallLink, type CallLinkHost } from './call-link.js';
import { CallingError, errorFromWire, mediaError } from './errors.js';
import {
  CallAnsweredEvent,
  CallDetailsChangeEvent,
  CallEndedEvent,
  CallEstablishedEvent,
  CallMediaChangeEvent,
  CallParticipantChangedEvent,
  CallParticipantJoinedEvent,
  CallParticipantLeftEvent,
  CallProgressingEvent,
  CallQualityWarningEvent,
  CallReconnectingEvent,
  CallRemoteStreamEvent,
  CallRingingEvent,
  CallStateChangeEvent,
  type CallEventMap,
} from './events.js';
import { controlMessage, type ControlMessage, type ControlPayload, type IceRestartPayload, type InviteMessage, type WireParticipant } from './protocol.js';
import type { PeerTransport } from './transport/peer-transport.js';
import { TypedEventTarget } from './typed-event-target.js';
import { QualityWatch, summarizeStats, type CallStats, type QualityWarningName } from './quality.js';
import { assertDtmf, cleanDisplayName } from './validation.js';
import type { CallDetails, CallDirection, CallEndCause, CallParticipant, CallState, CallType } from './types.js';

/** Timeouts a call works with (milliseconds); resolved from `CallClientOptions`. */
export interface CallTimings {
  /** An outgoing call not answered within this time ends with `noAnswer`. */
  noAnswerTimeout: number;
  /** The callee's device must take the invite within this time, else the call ends with `timeout`. */
  connectTimeout: number;
  /** After answering, media must flow within this time, else the call ends with `failure`. */
  establishTimeout: number;
  /** How long ICE may stay `disconnected` before the call ends with `failure`. */
  disconnectGrace: number;
  /** How often an established call's stats are read for quality warnings (ms). */
  qualityInterval: number;
}

/** What a call needs from the client that owns it. Internal. */
export interface CallHost {
  readonly transport: PeerTransport;
  readonly userId: string;
  readonly displayName?: string;
  readonly timings: CallTimings;
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  /** Declining an incoming call declines it on every device of this user (`CallClientOptions.declineOnAllDevices`). */
  readonly declineOnAllDevices?: boolean;
  /** Called once when the call has ended, so the client can forget it. */
  release(call: Call): void;
}

/** Internal: how a call is created. */
export interface CallInit {
  id: string;
  direction: CallDirection;
  callType: CallType;
  remote: CallParticipant;
  /** The peer id the call-control connection goes to (or came from). */
  remotePeerId: string;
  video: boolean;
  headers?: Record<string, string>;
}

const STATE_ORDER: Record<CallState, number> = {
  initiating: 0, progressing: 1, ringing: 2, answered: 3, established: 4, reconnecting: 4, ended: 5,
};

// How long a closed connection waits for the message that explains it before the call counts as failed.
const CLOSE_GRACE_MS = 1000;

/**
 * A call: outgoing (from `client.callUser()` and friends) or incoming (from the `incomingcall` event). This is
 * Sinch's `SINCall` on web idioms: listen for `progressing`, `ringing`, `established` and `ended`, read
 * `details`, and `answer()` / `hangup()`.
 *
 * @fires statechange - every state transition
 * @fires progressing - the callee's device has the invite (start a progress tone)
 * @fires ringing - the callee is being alerted
 * @fires answered - the callee answered
 * @fires established - media flows both ways (stop the progress tone); again after `reconnecting`
 * @fires reconnecting - an established call lost its media path and is trying to recover
 * @fires ended - the call is over, see `details.endCause`
 * @fires remotestream - the remote media stream arrived
 * @fires mediachange - mute or video pause changed on either side
 * @fires detailschange - `details` was replaced
 * @fires qualitywarning - a quality warning was raised or cleared
 */
export class Call extends TypedEventTarget<CallEventMap> {
  readonly id: string;
  readonly direction: CallDirection;
  /** `user`, `phone`, `sip` or `conference`. */
  readonly callType: CallType;
  /** The other party's user id (or phone number, SIP identity, conference id). */
  readonly remoteUserId: string;
  /**
   * The other party's display name, if any: for incoming calls as the invite gave it (a conference callout: the
   * room's name); for outgoing calls to a user, as the callee's device tells it when ringing or answering.
   */
  get remoteDisplayName(): string | undefined { return this._remoteDisplayName; }
  private _remoteDisplayName: string | undefined;
  private _participants: readonly CallParticipant[];

  private _state: CallState = 'initiating';
  private _details: CallDetails;
  private _localStream: MediaStream | null = null;
  private _remoteStream: MediaStream | null = null;
  private _muted = false;
  private _videoPaused = false;
  private _remoteAudioMuted = false;
  private _remoteVideoPaused = false;

  private readonly host: CallHost;
  /** The call's connections (control, media, ICE recovery). */
  private readonly link: CallLink;
  private iceConnected = false;
  /** The remote side sent a control message (services that open the connection and go silent fail the call). */
  private heard = false;
  private answerVideo = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly cleanups: Array<() => void> = [];
  private readonly quality = new QualityWatch();
  private lastStats: CallStats | undefined;

  /** @internal Created by `CallClient`; do not construct calls yourself. */
  constructor(host: CallHost, init: CallInit) {
    super();
    this.host = host;
    this.id = init.id;
    this.direction = init.direction;
    this.callType = init.callType;
    this.remoteUserId = init.remote.id;
    this._remoteDisplayName = init.remote.displayName;
    // A conference's list comes from the conference service once the user is in the room.
    this._participants = Object.freeze(init.callType === 'conference' ? [] : [Object.freeze({ ...init.remote })]);
    this._details = Object.freeze({
      startedTime: new Date(),
      duration: 0,
      isVideoOffered: init.video,
      headers: Object.freeze({ ...(init.headers ?? {}) }),
    });
    this.link = new CallLink(this.linkHost(), init.remotePeerId);
  }

  get state(): CallState { return this._state; }
  /**
   * Who takes part in the call besides this user. Conference calls: everyone in the room, this user included
   * (`id` = user id, phone number or SIP identity, with `muted` and `speaking`), kept current by the service; see the
   * `participantjoined`, `participantleft` and `participantchanged` events. A new frozen array on every change.
   */
  get participants(): readonly CallParticipant[] { return this._participants; }
  /** An immutable snapshot; a new object after every change. */
  get details(): CallDetails {
    if ((this._state === 'established' || this._state === 'reconnecting') && this._details.establishedTime) {
      return Object.freeze({ ...this._details, duration: secondsSince(this._details.establishedTime) });
    }
    return this._details;
  }
  /** This side's microphone (and camera) stream, once acquired. */
  get localStream(): MediaStream | null { return this._localStream; }
  /** The other side's stream, once it arrived. */
  get remoteStream(): MediaStream | null { return this._remoteStream; }
  get isMuted(): boolean { return this._muted; }
  get isVideoPaused(): boolean { return this._videoPaused; }
  get isRemoteMuted(): boolean { return this._remoteAudioMuted; }
  get isRemoteVideoPaused(): boolean { return this._remoteVideoPaused; }
  /** True when this call carries video (offered, and for incoming calls answered with video). */
  get hasVideo(): boolean {
    return this.direction === 'outgoing' ? this._details.isVideoOffered : this._details.isVideoOffered && this.answerVideo;
  }

  /**
   * Answers an incoming call. With `{ video: false }` a video call is answered with audio only.
   * Throws a `capability` error on outgoing calls and on calls that are no longer ringing.
   */
  answer(options: { video?: boolean } = {}): void {
    if (this.direction !== 'incoming') {
      throw new CallingError('capability', 'invalid-state', 'Only incoming calls can be answered.');
    }
    if (this._state !== 'ringing') {
      throw new CallingError('capability', 'invalid-state', `The call cannot be answered: it is ${this._state}.`);
    }
    this.answerVideo = this._details.isVideoOffered && options.video !== false;
    this.setState('answered', { answeredTime: new Date() });
    void this.acceptIncoming();
  }

  /**
   * Ends the call in any state: declines a ringing incoming call (the caller sees `denied`), cancels an outgoing
   * call that is not answered yet (the callee sees `canceled`), or hangs up (both see `hungUp`).
   */
  hangup(): void {
    if (this._state === 'ended') return;
    if (this.direction === 'incoming' && this._state === 'ringing') {
      this.end('denied', undefined, { type: 'deny', ...(this.host.declineOnAllDevices ? { allDevices: true } : {}) });
    } else if (STATE_ORDER[this._state] < STATE_ORDER.answered) {
      this.end('canceled', undefined, { type: 'cancel', reason: 'canceled' });
    } else {
      this.end('hungUp', undefined, { type: 'hangup', reason: 'hungUp' });
    }
  }

  /**
   * A small summary of the media path (codec, bitrate, round-trip time, jitter, loss) for apps and support.
   * Resolves `undefined` while there is no media connection.
   */
  async getStats(): Promise<CallStats | undefined> {
    const pc = this.link.peerConnection;
    if (!pc || pc.connectionState === 'closed') return undefined;
    this.lastStats = { ...summarizeStats(await pc.getStats(), this.lastStats), iceRestarts: this.link.ice.restarts };
    return this.lastStats;
  }

  /** Quality warnings active right now (see the `qualitywarning` event). */
  get qualityWarnings(): ReadonlySet<QualityWarningName> { return this.quality.active; }

  /**
   * Sends DTMF digits (`0-9 * # A-D`) on a phone or SIP call; the gateway plays them as RFC 4733 telephone-events.
   * Throws an `argument` error for other digits and a `capability` error on other calls or before `established`.
   */
  sendDtmf(digits: string): void {
    assertDtmf(digits);
    if (this.callType !== 'phone' && this.callType !== 'sip') {
      throw new CallingError('capability', 'dtmf-not-supported', 'DTMF can be sent on phone and SIP calls only.');
    }
    if (this._state !== 'established') {
      throw new CallingError('capability', 'invalid-state', 'DTMF can be sent once the call is established.');
    }
    this.send({ type: 'dtmf', digits });
  }

  /** Mutes the microphone (the other side is told). */
  mute(): void { this.setMedia(true, this._videoPaused); }
  unmute(): void { this.setMedia(false, this._videoPaused); }
  /** Stops sending camera images (the other side shows a placeholder). */
  pauseVideo(): void { this.setMedia(this._muted, true); }
  resumeVideo(): void { this.setMedia(this._muted, false); }

  // ---------------------------------------------------------------------------------------------------------------
  // Internal: driven by CallClient.

  /**
   * @internal Places an outgoing call: acquire media, then send the invite and the media offer together — to every
   * peer id in `devices` when the callee has several devices online (the first to answer wins), else to the one.
   * `devices` must not reject; empty means "none known": the invite goes to `remotePeerId` (PeerServer then says
   * whether it is online).
   */
  async _placeOutgoing(invite: Omit<InviteMessage, 'v' | 'callId' | 'type'>, devices?: Promise<readonly string[]>): Promise<void> {
    const { timings } = this.host;
    this.startTimer(timings.noAnswerTimeout, () => {
      if (STATE_ORDER[this._state] < STATE_ORDER.answered) this.end('noAnswer', undefined, { type: 'cancel', reason: 'noAnswer' });
    });
    let stream: MediaStream;
    try {
      stream = await this.host.getUserMedia({ audio: true, video: this._details.isVideoOffered });
    } catch (err) {
      this.end('failure', mediaError(err));
      return;
    }
    const peers = devices ? await devices : [];
    if (this._state === 'ended') {
      stopTracks(stream);
      return;
    }
    this._localStream = stream;
    this.link.dial(peers, controlMessage(this.id, { type: 'invite', ...invite }) as InviteMessage, stream);
    this.startTimer(timings.connectTimeout, () => {
      // Devices that did not take the invite in time are dropped; the call times out when none did.
      const late = () => new CallingError('network', 'connect-timeout', `${this.remoteUserId} did not respond in time.`);
      if (!this.link.reached(late()) && this._state !== 'ended') this.end('timeout', late());
    });
  }

  /** @internal An incoming call's control connection arrived with its invite. */
  _receiveIncoming(data: DataConnection): void {
    this.link.accept(data);
    // The callee safety net: a caller that vanished without a word must not leave us ringing for ever.
    this.startTimer(this.host.timings.noAnswerTimeout + this.host.timings.connectTimeout, () => {
      if (this._state === 'ringing') this.end('noAnswer');
    });
    this.setState('ringing', { rungTime: new Date() });
    this.send({ type: 'ringing', ...this.ownName() });
  }

  /** @internal The media offer for this call arrived (incoming calls). */
  _receiveMedia(media: MediaConnection): void {
    const stream = this._state === 'answered' ? this._localStream : null;
    if (this._state === 'ended' || !this.link.acceptMedia(media, stream)) media.close();
  }

  /**
   * @internal An ICE restart's offer (to the callee) or answer (to the caller) arrived over the signalling server from
   * `src`, for one of this call's connections. Anything else is ignored.
   */
  _iceRestart(src: string, p: IceRestartPayload): void {
    if (this._details.establishedTime && this._state !== 'ended') this.link.iceRestart(src, p);
  }

  /** @internal The signalling socket is back: an ICE restart sent while it was down got lost, so restart now. */
  _signallingBack(): void {
    this.link.ice.signallingBack();
  }

  /** @internal The callee (peer `peerId`, or any when not known) is not online (PeerServer said so). */
  _unavailable(peerId?: string): void {
    this.link.unavailable(peerId, new CallingError('network', 'unavailable', `${this.serviceName() ?? this.remoteUserId} is not available.`));
  }

  // ---------------------------------------------------------------------------------------------------------------

  /** This user's display name for the caller (sent with `ringing` and `answer` of incoming user calls). */
  private ownName(): { displayName?: string } {
    return this.callType === 'user' && this.host.displayName ? { displayName: this.host.displayName } : {};
  }

  /** An outgoing user call learns the callee's name from its device (set before the state change announces it). */
  private learnRemoteName(name: string): void {
    const clean = cleanDisplayName(name);
    if (!clean || this.direction !== 'outgoing' || this.callType !== 'user' || clean === this._remoteDisplayName) return;
    this._remoteDisplayName = clean;
    this._participants = Object.freeze([Object.freeze({ ...this._participants[0], displayName: clean })]);
  }

  private async acceptIncoming(): Promise<void> {
    let stream: MediaStream;
    try {
      stream = await this.host.getUserMedia({ audio: true, video: this.answerVideo });
    } catch (err) {
      const error = mediaError(err);
      this.end('failure', error, { type: 'hangup', reason: 'failure', error: error.toJSON() });
      return;
    }
    if (this._state === 'ended') {
      stopTracks(stream);
      return;
    }
    this._localStream = stream;
    this.applyTrackState();
    this.send({ type: 'answer', video: this.answerVideo, ...this.ownName() });
    this.link.answerMedia(stream);
    this.startTimer(this.host.timings.establishTimeout, () => {
      if (this._state === 'answered') this.failNetwork('media-timeout', 'Media could not be connected.');
    });
  }

  /** The callee's device or service took the invite. */
  private onOpened(): void {
    if (this.direction !== 'outgoing' || this._state !== 'initiating') return;
    this.setState('progressing', { progressedTime: new Date() });
    this.awaitService();
  }

  /**
   * A gateway or conference leg that took the invite must say something (ringing, progress, answer, an end) within
   * `connectTimeout`: a service that stays silent would otherwise hold the caller until `noAnswerTimeout`.
   */
  private awaitService(): void {
    if (!this.serviceName()) return;
    this.startTimer(this.host.timings.connectTimeout, () => {
      if (this.heard || this._state === 'ended') return;
      this.failNetwork('service-no-response', `${this.serviceName()} did not respond.`);
    });
  }

  /** The service a phone, SIP or conference call goes to; undefined for calls to users. */
  private serviceName(): string | undefined {
    return { user: undefined, phone: 'The calling gateway', sip: 'The calling gateway', conference: 'The conference service' }[this.callType];
  }

  private linkHost(): CallLinkHost {
    return {
      callId: this.id,
      remoteUserId: this.remoteUserId,
      transport: this.host.transport,
      connectTimeout: this.host.timings.connectTimeout,
      restarts: this.direction === 'outgoing',
      disconnectGrace: this.host.timings.disconnectGrace,
      message: (msg) => this.onMessage(msg),
      opened: () => this.onOpened(),
      broken: (closed) => {
        if (this._state === 'ended') return;
        if (!closed) this.failNetwork('connection-error', `The connection to ${this.remoteUserId} failed.`);
        // A closed connection usually follows a hang-up message; wait for it before calling it a failure.
        else this.startTimer(CLOSE_GRACE_MS, () => this.failNetwork('connection-lost', `The connection to ${this.remoteUserId} was lost.`));
      },
      mediaClosed: () => {
        if (this._state !== 'ended' && STATE_ORDER[this._state] >= STATE_ORDER.answered) {
          this.startTimer(CLOSE_GRACE_MS, () => this.failNetwork('media-closed', 'The media connection closed.'));
        }
      },
      remoteStream: (stream) => {
        if (this._remoteStream || this._state === 'ended') return;
        this._remoteStream = stream;
        this.dispatchEvent(new CallRemoteStreamEvent(this, stream));
        this.maybeEstablished();
      },
      wasEstablished: () => !!this._details.establishedTime,
      connected: () => {
        this.iceConnected = true;
        if (this._state === 'reconnecting') this.setState('established');
        this.maybeEstablished();
      },
      interrupted: () => { if (this._state === 'established') this.setState('reconnecting'); },
      failed: (code) => this.failNetwork(code, code === 'ice-failed' ? 'The media connection failed.' : `The connection to ${this.remoteUserId} was lost.`),
      end: (cause, error, notify) => this.end(cause, error, notify),
    };
  }

  private onMessage(msg: ControlMessage): void {
    if (this._state === 'ended') return;
    this.heard = true;
    switch (msg.type) {
      case 'progress':
        if (this.direction === 'outgoing' && this._state === 'initiating') this.setState('progressing', { progressedTime: new Date() });
        break;
      case 'ringing':
        if (msg.displayName !== undefined) this.learnRemoteName(msg.displayName);
        if (this.direction === 'outgoing' && STATE_ORDER[this._state] < STATE_ORDER.ringing) {
          if (this._state === 'initiating') this.setState('progressing', { progressedTime: new Date() });
          this.setState('ringing', { rungTime: new Date() });
        }
        break;
      case 'answer':
        if (msg.displayName !== undefined) this.learnRemoteName(msg.displayName);
        if (this.direction === 'outgoing' && STATE_ORDER[this._state] < STATE_ORDER.answered) this.remoteAnswered();
        break;
      case 'deny':
        this.end('denied');
        break;
      case 'cancel':
        this.end(msg.reason === 'canceled' ? 'canceled' : msg.reason);
        break;
      case 'hangup':
        this.end(msg.reason, msg.error ? errorFromWire(msg.error) : undefined);
        break;
      case 'media':
        this._remoteAudioMuted = msg.audioMuted;
        this._remoteVideoPaused = msg.videoPaused;
        this.dispatchEvent(new CallMediaChangeEvent(this));
        break;
      case 'participants':
        if (this.callType === 'conference') this.updateParticipants(msg.participants);
        break;
      case 'invite':
      case 'dtmf':
        break;
      default:
        assertNever(msg);
    }
  }

  private remoteAnswered(): void {
    this.setState('answered', { answeredTime: new Date() });
    this.startTimer(this.host.timings.establishTimeout, () => {
      if (this._state === 'answered') this.failNetwork('media-timeout', 'Media could not be connected.');
    });
    this.maybeEstablished();
  }

  /** Replaces the conference participant list and tells listeners what changed. */
  private updateParticipants(list: readonly WireParticipant[]): void {
    const before = new Map(this._participants.map((p) => [p.id, p]));
    const next: CallParticipant[] = [];
    const seen = new Set<string>();
    for (const w of list) {
      if (seen.has(w.id)) continue;
      seen.add(w.id);
      next.push(Object.freeze({ id: w.id, muted: w.muted, speaking: w.speaking, ...(w.displayName ? { displayName: w.displayName } : {}) }));
    }
    this._participants = Object.freeze(next);
    for (const p of next) {
      const old = before.get(p.id);
      if (!old) this.dispatchEvent(new CallParticipantJoinedEvent(this, p));
      else if (old.muted !== p.muted || old.speaking !== p.speaking || old.displayName !== p.displayName) {
        this.dispatchEvent(new CallParticipantChangedEvent(this, p, old));
      }
    }
    for (const [id, old] of before) if (!seen.has(id)) this.dispatchEvent(new CallParticipantLeftEvent(this, old));
  }

  private maybeEstablished(): void {
    if (this._state === 'answered' && this._remoteStream && this.iceConnected) {
      this.setState('established', { establishedTime: new Date() });
      this.link.ice.keepThroughRestarts();
      this.watchQuality();
    }
  }

  private watchQuality(): void {
    const timer = setInterval(() => {
      void this.getStats().then((stats) => {
        if (!stats || this._state === 'ended') return;
        for (const [name, active] of this.quality.update(stats, this._muted)) {
          this.dispatchEvent(new CallQualityWarningEvent(this, name, active));
        }
      }, () => undefined);
    }, this.host.timings.qualityInterval);
    this.cleanups.push(() => clearInterval(timer));
  }

  private failNetwork(code: string, message: string): void {
    const error = new CallingError('network', code, message);
    this.end('failure', error, { type: 'hangup', reason: 'failure', error: error.toJSON() });
  }

  private setMedia(muted: boolean, videoPaused: boolean): void {
    if (this._state === 'ended' || (muted === this._muted && videoPaused === this._videoPaused)) return;
    this._muted = muted;
    this._videoPaused = videoPaused;
    this.applyTrackState();
    this.send({ type: 'media', audioMuted: muted, videoPaused });
    this.dispatchEvent(new CallMediaChangeEvent(this));
  }

  private applyTrackState(): void {
    for (const t of this._localStream?.getAudioTracks() ?? []) t.enabled = !this._muted;
    for (const t of this._localStream?.getVideoTracks() ?? []) t.enabled = !this._videoPaused;
  }

  private send(payload: ControlPayload): void {
    this.link.send(payload);
  }

  private setState(state: CallState, times: Partial<CallDetails> = {}): void {
    const previous = this._state;
    if (previous === state || previous === 'ended') return;
    this._state = state;
    this._details = Object.freeze({ ...this._details, ...times });
    this.dispatchEvent(new CallStateChangeEvent(this, state, previous));
    this.dispatchEvent(new CallDetailsChangeEvent(this));
    const EventClass = {
      initiating: undefined,
      progressing: CallProgressingEvent,
      ringing: CallRingingEvent,
      answered: CallAnsweredEvent,
      established: CallEstablishedEvent,
      reconnecting: CallReconnectingEvent,
      ended: CallEndedEvent,
    }[state];
    if (EventClass) this.dispatchEvent(new EventClass(this));
  }

  private end(cause: CallEndCause, error?: CallingError, notify?: ControlPayload): void {
    if (this._state === 'ended') return;
    const endedTime = new Date();
    const established = this._details.establishedTime;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const cleanup of this.cleanups.splice(0)) cleanup();
    stopTracks(this._localStream);
    // Tell the other side first: it must learn why the call ended before it sees the connections close.
    this.link.close(notify);
    this.setState('ended', {
      endedTime,
      endCause: cause,
      duration: established ? secondsBetween(established, endedTime) : 0,
      ...(error ? { error } : {}),
    });
    this.host.release(this);
  }

  private startTimer(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }
}

function stopTracks(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

function secondsSince(t: Date): number {
  return secondsBetween(t, new Date());
}
function secondsBetween(a: Date, b: Date): number {
  return Math.max(0, Math.floor((b.getTime() - a.getTime()) / 1000));
}
