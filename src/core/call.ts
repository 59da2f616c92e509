import type { DataConnection, MediaConnection } from 'peerjs';
import { assertNever } from './assert-never.js';
import { CallLink, type CallLinkHost } from './call-link.js';
import { CallingError, errorFromWire, mediaError } from './errors.js';
import { CallMedia, stopTracks } from './call-media.js';
import { CallParticipants } from './call-participants.js';
import { assertHoldable, CallHold } from './hold.js';
import { CallHoldChangeEvent, CallMediaChangeEvent, CallQualityWarningEvent, CallRemoteStreamEvent, CallScreenShareChangeEvent, stateChangeEvents, type Call, type CallEventMap } from './events.js';
import { controlMessage, type ControlMessage, type ControlPayload, type IceRestartPayload, type InviteMessage } from './protocol.js';
import { secondsBetween, STATE_ORDER, Timers, type CallHost, type CallInit } from './call-host.js';
import { TypedEventTarget } from './typed-event-target.js';
import type { CallStats, QualityWarningName } from './quality.js';
import { CallQuality } from './call-quality.js';
import { assertDtmf } from './validation.js';
import type { CallDetails, CallDirection, CallEndCause, CallParticipant, CallState, CallType } from './types.js';

// How long a closed connection waits for the message that explains it before the call counts as failed.
const CLOSE_GRACE_MS = 1000;

/**
 * The class behind the public `Call` interface (events.ts): the call's state machine. `CallClient` creates it and
 * drives it through the `_`-methods below, which apps do not see; the connections are `CallLink`'s, the local media
 * `CallMedia`'s, the participant list `CallParticipants`'.
 */
export class CallSession extends TypedEventTarget<CallEventMap> implements Call {
  readonly id: string;
  readonly direction: CallDirection;
  readonly callType: CallType;
  readonly remoteUserId: string;
  get remoteDisplayName(): string | undefined { return this._remoteDisplayName; }
  private _remoteDisplayName: string | undefined;
  private readonly _participants: CallParticipants;

  private _state: CallState = 'initiating';
  private _details: CallDetails;
  private readonly media = new CallMedia();
  private _remoteStream: MediaStream | null = null;
  private readonly holding = new CallHold(() => ({
    peerConnection: this.link.peerConnection, localStream: this.media.stream, remoteStream: this._remoteStream,
  }));

  private readonly host: CallHost;
  /** The call's connections (control, media, ICE recovery). */
  private readonly link: CallLink;
  private iceConnected = false;
  /** The remote side sent a control message (services that open the connection and go silent fail the call). */
  private heard = false;
  private answerVideo = false;
  private readonly timers = new Timers();
  private readonly quality: CallQuality;

  /** @internal Created by `CallClient`; do not construct calls yourself. */
  constructor(host: CallHost, init: CallInit) {
    super();
    this.host = host;
    this.id = init.id;
    this.direction = init.direction;
    this.callType = init.callType;
    this.remoteUserId = init.remote.id;
    this._remoteDisplayName = init.remote.displayName;
    this._participants = new CallParticipants(init.remote, init.callType === 'conference');
    this._details = Object.freeze({
      startedTime: new Date(),
      duration: 0,
      isVideoOffered: init.video,
      headers: Object.freeze({ ...(init.headers ?? {}) }),
    });
    this.link = new CallLink(this.linkHost(), init.remotePeerId);
    this.quality = new CallQuality({
      interval: host.timings.qualityInterval,
      peerConnection: () => this.link.peerConnection,
      iceRestarts: () => this.link.iceRestarts,
      muted: () => this.media.muted,
      held: () => this.holding.held,
      ended: () => this._state === 'ended',
      warn: (name, active) => { if (this._state !== 'ended') this.dispatchEvent(new CallQualityWarningEvent(this, name, active)); },
    });
  }

  get state(): CallState { return this._state; }
  get participants(): readonly CallParticipant[] { return this._participants.list; }
  get details(): CallDetails {
    if ((this._state === 'established' || this._state === 'reconnecting') && this._details.establishedTime) {
      return Object.freeze({ ...this._details, duration: secondsBetween(this._details.establishedTime) });
    }
    return this._details;
  }
  get localStream(): MediaStream | null { return this.media.stream; }
  get remoteStream(): MediaStream | null { return this._remoteStream; }
  get isMuted(): boolean { return this.media.muted; }
  get isVideoPaused(): boolean { return this.media.videoPaused; }
  get isRemoteMuted(): boolean { return this.media.remoteMuted; }
  get isRemoteVideoPaused(): boolean { return this.media.remoteVideoPaused; }
  get isOnHold(): boolean { return this.holding.local; }
  get isRemoteOnHold(): boolean { return this.holding.remote; }
  get isScreenSharing(): boolean { return this.media.screen.local; }
  get isRemoteScreenSharing(): boolean { return this.media.screen.remote; }
  get hasVideo(): boolean {
    return this.direction === 'outgoing' ? this._details.isVideoOffered : this._details.isVideoOffered && this.answerVideo;
  }

  answer(options: { video?: boolean } = {}): void {
    if (this.direction !== 'incoming' || this._state !== 'ringing') {
      const why = this.direction !== 'incoming' ? 'Only incoming calls can be answered.' : `The call cannot be answered: it is ${this._state}.`;
      throw new CallingError('capability', 'invalid-state', why);
    }
    // At most one call off hold: the call going on now waits on hold while this one is answered.
    this.host.holdOthers(this);
    this.answerVideo = this._details.isVideoOffered && options.video !== false;
    this.setState('answered', { answeredTime: new Date() });
    void this.acceptIncoming();
  }

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

  getStats(): Promise<CallStats | undefined> { return this.quality.getStats(); }
  get qualityWarnings(): ReadonlySet<QualityWarningName> { return this.quality.warnings; }

  sendDtmf(digits: string): void {
    assertDtmf(digits);
    if (this.callType !== 'phone' && this.callType !== 'sip') {
      throw new CallingError('capability', 'dtmf-not-supported', 'DTMF can be sent on phone and SIP calls only.');
    }
    if (this._state !== 'established') {
      throw new CallingError('capability', 'invalid-state', 'DTMF can be sent once the call is established.');
    }
    this.link.send({ type: 'dtmf', digits });
  }

  mute(): void { this.setMedia(true, this.media.videoPaused); }
  unmute(): void { this.setMedia(false, this.media.videoPaused); }
  pauseVideo(): void { this.setMedia(this.media.muted, true); }
  resumeVideo(): void { this.setMedia(this.media.muted, false); }
  async startScreenShare(): Promise<void> { return (await this.host.devices()).startScreenShare(this); }
  async stopScreenShare(): Promise<void> { return (await this.host.devices()).stopScreenShare(this); }

  hold(): void {
    assertHoldable(this._state, 'held');
    this.setHold('local', true);
  }

  unhold(): void {
    assertHoldable(this._state, 'resumed');
    if (!this.holding.local) return;
    this.host.holdOthers(this);
    this.setHold('local', false);
  }

  // Internal: driven by CallClient.

  /**
   * @internal Places an outgoing call: acquire media, then send the invite and the media offer together — to every
   * peer id in `devices` when the callee has several devices online (the first to answer wins), else to the one.
   * `devices` must not reject; empty means "none known": the invite goes to `remotePeerId` (PeerServer then says
   * whether it is online).
   */
  async _placeOutgoing(invite: Omit<InviteMessage, 'v' | 'callId' | 'type'>, devices?: Promise<readonly string[]>): Promise<void> {
    const { timings } = this.host;
    this.timers.start(timings.noAnswerTimeout, () => {
      if (STATE_ORDER[this._state] < STATE_ORDER.answered) this.end('noAnswer', undefined, { type: 'cancel', reason: 'noAnswer' });
    });
    const [stream, peers] = await Promise.all([this.localMedia(this._details.isVideoOffered, false), devices ?? []]);
    if (!stream || !this.stillOn(stream)) return;
    this.media.use(stream);
    this.link.dial(peers, controlMessage(this.id, { type: 'invite', ...invite }) as InviteMessage, stream);
    this.timers.start(timings.connectTimeout, () => {
      // Devices that did not take the invite in time are dropped; the call fails when none did.
      const failed = this.link.connectDeadline();
      if (failed && this._state !== 'ended') this.end(failed.cause, new CallingError(failed.error.domain, failed.error.code, failed.error.message));
    });
  }

  /** @internal An incoming call's control connection arrived with its invite. */
  _receiveIncoming(data: DataConnection): void {
    this.link.accept(data);
    // The callee safety net: a caller that vanished without a word must not leave us ringing for ever.
    this.timers.start(this.host.timings.noAnswerTimeout + this.host.timings.connectTimeout, () => {
      if (this._state === 'ringing') this.end('noAnswer');
    });
    this.setState('ringing', { rungTime: new Date() });
    this.link.send({ type: 'ringing', ...this.ownName() });
  }

  /** @internal An incoming call beyond `maxCalls`: declined at once (the caller sees `denied`), the app never sees it. */
  _declineBusy(data: DataConnection): void {
    this.link.accept(data);
    this.end('denied', undefined, { type: 'deny' });
  }

  /** @internal The media offer for this call arrived (incoming calls). */
  _receiveMedia(media: MediaConnection): void {
    const stream = this._state === 'answered' ? this.media.stream : null;
    if (this._state === 'ended' || !this.link.acceptMedia(media, stream)) media.close();
  }

  /**
   * @internal An ICE restart's offer (to the callee) or answer (to the caller) arrived over the signalling server from
   * `src`, for one of this call's connections. Anything else is ignored.
   */
  _iceRestart(src: string, p: IceRestartPayload): void {
    if (this._details.establishedTime && this._state !== 'ended') this.link.iceRestart(src, p);
  }

  /** @internal The media connection's PeerConnection (device switches replace its tracks). */
  get _peerConnection(): RTCPeerConnection | undefined { return this.link.peerConnection; }

  /** @internal This side (media-devices.ts did the tracks) or the other started or stopped sharing its screen. */
  _screenShared(sharing: boolean, by: 'local' | 'remote' = 'local'): void {
    if (this._state === 'ended' || this.media.screen[by] === sharing) return;
    if (by === 'local') this.link.send({ type: 'screenshare', sharing });
    this.media.screen[by] = sharing;
    for (const e of [new CallScreenShareChangeEvent(this, sharing, by), new CallMediaChangeEvent(this)]) this.dispatchEvent(e);
  }

  /** @internal The signalling socket is back: an ICE restart sent while it was down got lost, so restart now. */
  _signallingBack(): void { this.link.signallingBack(); }

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
  private learnRemoteName(name: string | undefined): void {
    if (name === undefined || this.direction !== 'outgoing' || this.callType !== 'user') return;
    this._remoteDisplayName = this._participants.rename(name) ?? this._remoteDisplayName;
  }

  /** The camera and microphone for the call; null (the call has ended) when the browser refuses them. */
  private async localMedia(video: boolean, tellRemote: boolean): Promise<MediaStream | null> {
    try {
      return await this.host.getUserMedia({ audio: true, video });
    } catch (err) {
      const error = mediaError(err);
      this.end('failure', error, tellRemote ? { type: 'hangup', reason: 'failure', error: error.toJSON() } : undefined);
      return null;
    }
  }

  /** False (the tracks stopped) when the call ended while its media was being acquired. */
  private stillOn(stream: MediaStream): boolean {
    if (this._state !== 'ended') return true;
    stopTracks(stream);
    return false;
  }

  private async acceptIncoming(): Promise<void> {
    const stream = await this.localMedia(this.answerVideo, true);
    if (!stream || !this.stillOn(stream)) return;
    this.media.use(stream);
    this.link.send({ type: 'answer', video: this.answerVideo, ...this.ownName() });
    this.link.answerMedia(stream);
    this.timers.start(this.host.timings.establishTimeout, () => {
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
    this.timers.start(this.host.timings.connectTimeout, () => {
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
        else this.timers.start(CLOSE_GRACE_MS, () => this.failNetwork('connection-lost', `The connection to ${this.remoteUserId} was lost.`));
      },
      mediaClosed: () => {
        if (this._state !== 'ended' && STATE_ORDER[this._state] >= STATE_ORDER.answered) {
          this.timers.start(CLOSE_GRACE_MS, () => this.failNetwork('media-closed', 'The media connection closed.'));
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
        if (this._state === 'reconnecting') {
          // The media path is back: the hold state holds on both sides (said again in case the news was lost).
          if (this.holding.reapply()) this.link.send({ type: 'hold', onHold: true });
          this.setState('established');
        }
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
        this.learnRemoteName(msg.displayName);
        if (this.direction === 'outgoing' && STATE_ORDER[this._state] < STATE_ORDER.ringing) {
          if (this._state === 'initiating') this.setState('progressing', { progressedTime: new Date() });
          this.setState('ringing', { rungTime: new Date() });
        }
        break;
      case 'answer':
        this.learnRemoteName(msg.displayName);
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
        this.media.remoteMuted = msg.audioMuted;
        this.media.remoteVideoPaused = msg.videoPaused;
        this.dispatchEvent(new CallMediaChangeEvent(this));
        break;
      case 'screenshare':
        this._screenShared(msg.sharing, 'remote');
        break;
      case 'participants':
        if (this.callType === 'conference') for (const e of this._participants.replace(this, msg.participants)) this.dispatchEvent(e);
        break;
      case 'hold':
        if (STATE_ORDER[this._state] >= STATE_ORDER.answered) this.setHold('remote', msg.onHold);
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
    this.timers.start(this.host.timings.establishTimeout, () => {
      if (this._state === 'answered') this.failNetwork('media-timeout', 'Media could not be connected.');
    });
    this.maybeEstablished();
  }

  private maybeEstablished(): void {
    if (this._state === 'answered' && this._remoteStream && this.iceConnected) {
      this.setState('established', { establishedTime: new Date() });
      this.link.keepThroughRestarts();
      this.quality.start();
    }
  }

  private failNetwork(code: string, message: string): void {
    const error = new CallingError('network', code, message);
    this.end('failure', error, { type: 'hangup', reason: 'failure', error: error.toJSON() });
  }

  private setMedia(muted: boolean, videoPaused: boolean): void {
    if (this._state === 'ended' || !this.media.set(muted, videoPaused)) return;
    this.link.send({ type: 'media', audioMuted: muted, videoPaused });
    this.dispatchEvent(new CallMediaChangeEvent(this));
  }

  /** Holds or resumes one side; the other side is told of this side's hold. */
  private setHold(by: 'local' | 'remote', onHold: boolean): void {
    if (this._state === 'ended' || !this.holding.set(by, onHold)) return;
    if (by === 'local') this.link.send({ type: 'hold', onHold });
    this.dispatchEvent(new CallHoldChangeEvent(this, onHold, by));
  }

  private setState(state: CallState, times: Partial<CallDetails> = {}): void {
    const previous = this._state;
    if (previous === state || previous === 'ended') return;
    this._state = state;
    this._details = Object.freeze({ ...this._details, ...times });
    for (const e of stateChangeEvents(this, state, previous)) this.dispatchEvent(e);
  }

  private end(cause: CallEndCause, error?: CallingError, notify?: ControlPayload): void {
    if (this._state === 'ended') return;
    const endedTime = new Date();
    const established = this._details.establishedTime;
    this.timers.clear();
    this.quality.close();
    this.media.stop();
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
}
