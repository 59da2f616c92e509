import type { DataConnection, MediaConnection, Peer } from 'peerjs';
import { CallingError, mediaError } from './errors.js';
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
import {
  controlMessage, decodeControl, encodeControl, ICE_RESTART_MESSAGE, type ControlMessage, type ControlPayload, type IceRestartPayload,
  type InviteMessage, type WireError, type WireParticipant,
} from './protocol.js';
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
  readonly peer: Peer;
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

/** One device of the callee that a forked outgoing call rings, until a device answers. */
interface Leg {
  peerId: string;
  data: DataConnection;
  media: MediaConnection;
  open: boolean;
  detach: () => void;
}

const STATE_ORDER: Record<CallState, number> = {
  initiating: 0, progressing: 1, ringing: 2, answered: 3, established: 4, reconnecting: 4, ended: 5,
};

// How long a final message is given to leave before its connection is closed.
const FLUSH_MS = 300;
// How long a closed connection waits for the message that explains it before the call counts as failed.
const CLOSE_GRACE_MS = 1000;
// ICE `disconnected` often heals by itself within a second or two; after this the caller restarts ICE, and again
// with the delay doubling up to RESTART_MAX_MS until the media path is back or `disconnectGrace` ends the call.
const RESTART_GRACE_MS = 1500;
const RESTART_MAX_MS = 8000;

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
  private remotePeerId: string;
  private data: DataConnection | null = null;
  /** Outgoing calls to a user with several devices: one invite per device until one answers (then empty). */
  private legs: Leg[] = [];
  /** Why the devices rung so far gave up (a decline on any device wins), for when the last one does. */
  private legEnd: { cause: CallEndCause; error?: CallingError } | undefined;
  private media: MediaConnection | null = null;
  private dataOpen = false;
  private outbox: ControlMessage[] = [];
  private iceConnected = false;
  private answerVideo = false;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private readonly cleanups: Array<() => void> = [];
  private disconnectTimer: ReturnType<typeof setTimeout> | undefined;
  private restartTimer: ReturnType<typeof setTimeout> | undefined;
  private restartAttempt = 0;
  private iceRestarts = 0;
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
    this.remotePeerId = init.remotePeerId;
    this._details = Object.freeze({
      startedTime: new Date(),
      duration: 0,
      isVideoOffered: init.video,
      headers: Object.freeze({ ...(init.headers ?? {}) }),
    });
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
    const pc = this.media?.peerConnection as RTCPeerConnection | undefined;
    if (!pc || pc.connectionState === 'closed') return undefined;
    this.lastStats = { ...summarizeStats(await pc.getStats(), this.lastStats), iceRestarts: this.iceRestarts };
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
    this.startTimer(this.host.timings.noAnswerTimeout, () => {
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
    const message = controlMessage(this.id, { type: 'invite', ...invite });
    if (peers.length > 1) {
      this.fork(peers, message, stream);
    } else {
      if (peers.length === 1) this.remotePeerId = peers[0]!;
      const data = this.host.peer.connect(this.remotePeerId, { reliable: true, serialization: 'raw', metadata: message });
      this.attachData(data);
      this.attachMedia(this.host.peer.call(this.remotePeerId, stream, { metadata: { callId: this.id } }));
    }
    this.startTimer(this.host.timings.connectTimeout, () => {
      // Devices that did not take the invite in time are dropped; the call times out when none did.
      const late = new CallingError('network', 'connect-timeout', `${this.remoteUserId} did not respond in time.`);
      for (const leg of this.legs.filter((l) => !l.open)) this.dropLeg(leg, 'timeout', late);
      if (!this.dataOpen && !this.legs.length && this._state !== 'ended') {
        this.end('timeout', new CallingError('network', 'connect-timeout', `${this.remoteUserId} did not respond in time.`));
      }
    });
  }

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

  /** @internal An incoming call's control connection arrived with its invite. */
  _receiveIncoming(data: DataConnection): void {
    this.attachData(data);
    // The callee safety net: a caller that vanished without a word must not leave us ringing for ever.
    this.startTimer(this.host.timings.noAnswerTimeout + this.host.timings.connectTimeout, () => {
      if (this._state === 'ringing') this.end('noAnswer');
    });
    this.setState('ringing', { rungTime: new Date() });
    this.send({ type: 'ringing', ...this.ownName() });
  }

  /** @internal The media offer for this call arrived (incoming calls). */
  _receiveMedia(media: MediaConnection): void {
    if (this.media || this._state === 'ended') {
      media.close();
      return;
    }
    this.attachMedia(media);
    if (this._state === 'answered' && this._localStream) media.answer(this._localStream);
  }

  /**
   * @internal An ICE restart's offer (to the callee) or answer (to the caller) arrived over the signalling server from
   * `src`, for one of this call's connections. Anything else is ignored.
   */
  _iceRestart(src: string, p: IceRestartPayload): void {
    const conn = [this.media, this.data].find((c) => c?.connectionId === p.connectionId);
    const pc = conn?.peerConnection as RTCPeerConnection | undefined;
    const offer = p.sdp.type === 'offer';
    if (!conn || !pc || src !== this.remotePeerId || offer !== (this.direction === 'incoming') || !this._details.establishedTime || this._state === 'ended') return;
    // Applied at once, so that the candidates PeerJS relays right after the description find it in place.
    const applied = pc.setRemoteDescription(p.sdp);
    if (!offer) {
      applied.catch(() => undefined);
      return;
    }
    if (conn === this.media) this.iceRestarts++;
    applied.then(() => pc.createAnswer()).then((answer) => {
      this.sendRestart(conn.connectionId, answer);
      return pc.setLocalDescription(answer);
    }).catch(() => undefined);
  }

  /** @internal The signalling socket is back: an ICE restart sent while it was down got lost, so restart now. */
  _signallingBack(): void {
    if (this.restartAttempt > 0) this.scheduleRestart(0);
  }

  /** @internal The callee (peer `peerId`, or any when not known) is not online (PeerServer said so). */
  _unavailable(peerId?: string): void {
    const who = { user: this.remoteUserId, phone: 'The calling gateway', sip: 'The calling gateway', conference: 'The conference service' }[this.callType];
    const error = new CallingError('network', 'unavailable', `${who} is not available.`);
    if (this.legs.length) {
      for (const leg of this.legs.filter((l) => !l.open && (peerId === undefined || l.peerId === peerId))) this.dropLeg(leg, 'unavailable', error);
      return;
    }
    if (!this.dataOpen && (peerId === undefined || peerId === this.remotePeerId)) this.end('unavailable', error);
  }

  /** @internal True while nothing from the remote side arrived yet (PeerServer errors apply to such calls). */
  get _awaitingRemote(): boolean { return !this.dataOpen && this._state !== 'ended'; }

  /** @internal The peer id this call talks to. */
  get _remotePeerId(): string { return this.remotePeerId; }

  /**
   * @internal Ends the call locally, tells the other side with `notify` (when given), releases everything.
   * Idempotent: only the first call has an effect.
   */
  _end(cause: CallEndCause, error?: CallingError, notify?: ControlPayload): void { this.end(cause, error, notify); }

  // ---------------------------------------------------------------------------------------------------------------

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
    if (this.media) this.media.answer(stream);
    this.startTimer(this.host.timings.establishTimeout, () => {
      if (this._state === 'answered') this.failNetwork('media-timeout', 'Media could not be connected.');
    });
  }

  /** Rings every device: one invite (DataConnection) and one media offer per device, all with this call's id. */
  private fork(peers: readonly string[], invite: ControlMessage, stream: MediaStream): void {
    for (const peerId of peers) {
      const data = this.host.peer.connect(peerId, { reliable: true, serialization: 'raw', metadata: invite });
      const media = this.host.peer.call(peerId, stream, { metadata: { callId: this.id } });
      const leg: Leg = { peerId, data, media, open: false, detach: () => undefined };
      const onOpen = () => {
        leg.open = true;
        if (this._state === 'initiating') this.setState('progressing', { progressedTime: new Date() });
      };
      const onData = (raw: unknown) => this.onLegMessage(leg, raw);
      const onGone = () => this.dropLeg(leg, 'failure', new CallingError('network', 'connection-lost', `The connection to ${this.remoteUserId} was lost.`));
      data.on('open', onOpen);
      data.on('data', onData);
      data.on('close', onGone);
      data.on('error', onGone);
      leg.detach = () => {
        data.off('open', onOpen);
        data.off('data', onData);
        data.off('close', onGone);
        data.off('error', onGone);
      };
      this.legs.push(leg);
      if (data.open) onOpen();
    }
  }

  /** A message from one of the devices a forked call rings. */
  private onLegMessage(leg: Leg, raw: unknown): void {
    const msg = decodeControl(raw);
    if (!msg || msg.callId !== this.id || this._state === 'ended' || !this.legs.includes(leg)) return;
    switch (msg.type) {
      case 'ringing':
        this.onMessage(raw);
        break;
      case 'answer':
        // First answer wins: the other devices stop ringing with `otherDeviceAnswered`.
        this.adoptLeg(leg);
        this.onMessage(raw);
        break;
      case 'deny':
        if (msg.allDevices) {
          this.legs.splice(this.legs.indexOf(leg), 1);
          leg.detach();
          this.closeLeg(leg);
          this.end('denied', undefined, { type: 'cancel', reason: 'denied' });
        } else {
          this.dropLeg(leg, 'denied');
        }
        break;
      case 'hangup':
        this.dropLeg(leg, msg.reason, msg.error ? fromWire(msg.error) : undefined);
        break;
      default:
        break;
    }
  }

  /**
   * A device stopped ringing without answering (declined, failed, unreachable). The others keep ringing; when the
   * last one gives up the call ends — `denied` if any device declined.
   */
  private dropLeg(leg: Leg, cause: CallEndCause, error?: CallingError): void {
    const i = this.legs.indexOf(leg);
    if (i < 0 || this._state === 'ended') return;
    this.legs.splice(i, 1);
    leg.detach();
    this.closeLeg(leg);
    if (!this.legEnd || cause === 'denied') this.legEnd = { cause, ...(error ? { error } : {}) };
    if (this.legs.length === 0) this.end(this.legEnd.cause, this.legEnd.error);
  }

  /** The device that answered becomes the call's connection; every other device is told `otherDeviceAnswered`. */
  private adoptLeg(winner: Leg): void {
    for (const leg of this.legs) {
      leg.detach();
      if (leg !== winner) this.closeLeg(leg, { type: 'cancel', reason: 'otherDeviceAnswered' });
    }
    this.legs = [];
    this.remotePeerId = winner.peerId;
    this.attachData(winner.data);
    this.attachMedia(winner.media);
  }

  private closeLeg(leg: Leg, notify?: ControlPayload): void {
    this.closeConnection(leg.data, leg.open, notify);
    const media = leg.media;
    setTimeout(() => media.close(), notify ? FLUSH_MS : 0);
  }

  private attachData(data: DataConnection): void {
    this.data = data;
    const onOpen = () => {
      this.dataOpen = true;
      const queued = this.outbox;
      this.outbox = [];
      for (const m of queued) data.send(encodeControl(data.serialization, m));
      if (this.direction === 'outgoing' && this._state === 'initiating') this.setState('progressing', { progressedTime: new Date() });
    };
    const onData = (raw: unknown) => this.onMessage(raw);
    const onClose = () => {
      this.dataOpen = false;
      if (this._state !== 'ended') {
        this.startTimer(CLOSE_GRACE_MS, () => this.failNetwork('connection-lost', `The connection to ${this.remoteUserId} was lost.`));
      }
    };
    const onError = () => {
      if (this._state !== 'ended') this.failNetwork('connection-error', `The connection to ${this.remoteUserId} failed.`);
    };
    data.on('open', onOpen);
    data.on('data', onData);
    data.on('close', onClose);
    data.on('error', onError);
    if (data.open) onOpen();
    this.cleanups.push(() => {
      data.off('open', onOpen);
      data.off('data', onData);
      data.off('close', onClose);
      data.off('error', onError);
    });
  }

  private attachMedia(media: MediaConnection): void {
    this.media = media;
    const onStream = (stream: MediaStream) => {
      if (this._remoteStream) return; // PeerJS fires once per track
      this._remoteStream = stream;
      this.dispatchEvent(new CallRemoteStreamEvent(this, stream));
      this.maybeEstablished();
    };
    // A closing media connection usually follows a hang-up message; wait for it before calling it a failure.
    const onClose = () => {
      if (this._state !== 'ended' && STATE_ORDER[this._state] >= STATE_ORDER.answered) {
        this.startTimer(CLOSE_GRACE_MS, () => this.failNetwork('media-closed', 'The media connection closed.'));
      }
    };
    media.on('stream', onStream);
    media.on('close', onClose);
    media.on('error', onClose);
    // A device's leg adopted after its stream arrived (see adoptLeg).
    if (media.remoteStream) {
      queueMicrotask(() => {
        if (this.media === media && this._state !== 'ended') onStream(media.remoteStream);
      });
    }
    this.cleanups.push(() => {
      media.off('stream', onStream);
      media.off('close', onClose);
      media.off('error', onClose);
    });
    const pc = media.peerConnection as RTCPeerConnection | undefined;
    if (pc) this.watchIce(pc);
    else {
      // The callee's PeerConnection exists only after answer(); PeerJS creates it synchronously there.
      const poll = setInterval(() => {
        const later = media.peerConnection as RTCPeerConnection | undefined;
        if (later) {
          clearInterval(poll);
          this.watchIce(later);
        }
      }, 20);
      this.cleanups.push(() => clearInterval(poll));
    }
  }

  private watchIce(pc: RTCPeerConnection): void {
    const onIce = () => {
      const s = pc.iceConnectionState;
      const wasEstablished = !!this._details.establishedTime;
      if (s === 'connected' || s === 'completed') {
        this.iceConnected = true;
        if (this.disconnectTimer) {
          this.clearTimer(this.disconnectTimer);
          this.disconnectTimer = undefined;
        }
        if (this.restartTimer && healthy(this.data)) {
          this.clearTimer(this.restartTimer);
          this.restartTimer = undefined;
          this.restartAttempt = 0;
        }
        if (this._state === 'reconnecting') this.setState('established');
        this.maybeEstablished();
      } else if (s === 'failed' && !wasEstablished) {
        this.failNetwork('ice-failed', 'The media connection failed.');
      } else if (s === 'disconnected' || s === 'failed') {
        // ICE recovers by itself when packets flow again soon (consent freshness); a path that is really gone needs
        // an ICE restart. Either way the call fails if media is not back within `disconnectGrace`.
        if (this._state === 'established') this.setState('reconnecting');
        this.disconnectTimer ??= this.startTimer(this.host.timings.disconnectGrace, () => {
          this.failNetwork('ice-disconnected', `The connection to ${this.remoteUserId} was lost.`);
        });
        if (wasEstablished) this.scheduleRestart(s === 'failed' && this.restartAttempt === 0 ? 0 : RESTART_GRACE_MS);
      }
    };
    pc.addEventListener('iceconnectionstatechange', onIce);
    this.cleanups.push(() => pc.removeEventListener('iceconnectionstatechange', onIce));
    onIce();
  }

  /**
   * The caller (only one side restarts, so offers never cross) restarts ICE on both of the call's connections, the
   * data connection too so that hang-ups get through again; retried with backoff while either is not connected.
   */
  private scheduleRestart(delay: number): void {
    if (this.direction !== 'outgoing' || this._state === 'ended') return;
    if (this.restartTimer) {
      if (delay > 0) return;
      this.clearTimer(this.restartTimer);
    }
    this.restartTimer = this.startTimer(delay, () => {
      this.restartTimer = undefined;
      if (healthy(this.media) && healthy(this.data)) {
        this.restartAttempt = 0;
        return;
      }
      this.iceRestarts++;
      for (const conn of [this.media, this.data]) {
        const pc = conn?.peerConnection as RTCPeerConnection | undefined;
        if (!conn || !pc || pc.signalingState === 'closed') continue;
        // Sent before it is applied: the offer then leaves before any of the candidates it starts gathering.
        pc.createOffer({ iceRestart: true }).then((offer) => {
          this.sendRestart(conn.connectionId, offer);
          return pc.setLocalDescription(offer);
        }).catch(() => undefined);
      }
      this.scheduleRestart(Math.min(RESTART_MAX_MS, RESTART_GRACE_MS * 2 ** ++this.restartAttempt));
    });
  }

  /** ICE restarts go over the signalling server: the call's data channel shares the media path that broke. */
  private sendRestart(connectionId: string, sdp: RTCSessionDescriptionInit): void {
    try {
      this.host.peer.socket.send({ type: ICE_RESTART_MESSAGE, dst: this.remotePeerId, payload: { callId: this.id, connectionId, sdp: { type: sdp.type, sdp: sdp.sdp } } });
    } catch {
      // signalling is down too: the next attempt may find it back
    }
  }

  private onMessage(raw: unknown): void {
    const msg = decodeControl(raw);
    if (!msg || msg.callId !== this.id || this._state === 'ended') return;
    if ((msg.type === 'ringing' || msg.type === 'answer') && msg.displayName !== undefined) this.learnRemoteName(msg.displayName);
    switch (msg.type) {
      case 'ringing':
        if (this.direction === 'outgoing' && STATE_ORDER[this._state] < STATE_ORDER.ringing) {
          if (this._state === 'initiating') this.setState('progressing', { progressedTime: new Date() });
          this.setState('ringing', { rungTime: new Date() });
        }
        break;
      case 'answer':
        if (this.direction === 'outgoing' && STATE_ORDER[this._state] < STATE_ORDER.answered) {
          this.setState('answered', { answeredTime: new Date() });
          this.startTimer(this.host.timings.establishTimeout, () => {
            if (this._state === 'answered') this.failNetwork('media-timeout', 'Media could not be connected.');
          });
          this.maybeEstablished();
        }
        break;
      case 'deny':
        this.end('denied');
        break;
      case 'cancel':
        this.end(msg.reason === 'canceled' ? 'canceled' : msg.reason);
        break;
      case 'hangup':
        this.end(msg.reason, msg.error ? fromWire(msg.error) : undefined);
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
    }
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
      for (const conn of [this.media, this.data]) keepThroughRestarts(conn?.peerConnection as RTCPeerConnection | undefined);
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
    const message = controlMessage(this.id, payload);
    if (this.data && this.dataOpen) this.data.send(encodeControl(this.data.serialization, message));
    else this.outbox.push(message);
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
    this.closeData(notify);
    for (const leg of this.legs.splice(0)) {
      leg.detach();
      this.closeLeg(leg, notify);
    }
    const media = this.media;
    if (media) setTimeout(() => media.close(), notify ? FLUSH_MS : 0);
    this.setState('ended', {
      endedTime,
      endCause: cause,
      duration: established ? secondsBetween(established, endedTime) : 0,
      ...(error ? { error } : {}),
    });
    this.host.release(this);
  }

  /** Sends the final message (once the connection is open, if it is not yet) and then closes the connection. */
  private closeData(notify?: ControlPayload): void {
    if (this.data) this.closeConnection(this.data, this.dataOpen, notify);
  }

  private closeConnection(data: DataConnection, open: boolean, notify?: ControlPayload): void {
    if (!notify) {
      data.close();
      return;
    }
    const message = controlMessage(this.id, notify);
    // Closing right after send() can lose the message (PeerJS closes the PeerConnection too): give it a moment.
    const sendAndClose = () => {
      data.send(encodeControl(data.serialization, message));
      setTimeout(() => data.close(), FLUSH_MS);
    };
    if (open) {
      sendAndClose();
      return;
    }
    const giveUp = setTimeout(() => data.close(), this.host.timings.connectTimeout);
    data.once('open', () => {
      clearTimeout(giveUp);
      sendAndClose();
    });
  }

  private startTimer(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private clearTimer(t: ReturnType<typeof setTimeout>): void {
    clearTimeout(t);
    this.timers.delete(t);
  }
}

/** Whether a connection's ICE is connected (no connection counts as healthy: there is nothing to restart). */
function healthy(conn: { peerConnection: unknown } | null): boolean {
  const state = (conn?.peerConnection as RTCPeerConnection | undefined)?.iceConnectionState;
  return state === undefined || state === 'connected' || state === 'completed';
}

/**
 * PeerJS closes a connection whose ICE `failed` and stops sending ICE candidates once ICE `completed`: an established
 * call keeps both for ICE restarts (its own watch ends it when the path does not come back).
 */
function keepThroughRestarts(pc: RTCPeerConnection | undefined): void {
  const peerjs = pc?.oniceconnectionstatechange;
  if (!pc || !peerjs) return;
  pc.oniceconnectionstatechange = (e) => {
    if (pc.iceConnectionState !== 'failed' && pc.iceConnectionState !== 'completed') peerjs.call(pc, e);
  };
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

function fromWire(e: WireError): CallingError {
  return new CallingError(e.domain, e.code, e.message, {
    ...(e.sipStatus === undefined ? {} : { sipStatus: e.sipStatus }),
    ...(e.sipReason === undefined ? {} : { sipReason: e.sipReason }),
  });
}
