// A call's public face (the `Call` interface) and the events of calls and clients. The class behind `Call` lives in
// call.ts and is driven by `CallClient` through methods apps do not see; this module depends on neither.
import type { CallDetails, CallDirection, CallParticipant, CallState, CallType, ConnectionState } from './types.js';
import type { CallingError } from './errors.js';
import type { CallStats, QualityWarningName } from './quality.js';
import type { TypedEventTarget } from './typed-event-target.js';
import type { DeviceKind, MediaDeviceLists } from './media-devices.js';

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
 * @fires mediachange - mute, video pause or screen sharing changed on either side
 * @fires detailschange - `details` was replaced
 * @fires qualitywarning - a quality warning was raised or cleared
 * @fires holdchange - this side (`by: 'local'`) or the other (`by: 'remote'`) put the call on hold or resumed it
 * @fires screensharechange - this side or the other started or stopped sharing its screen
 */
export interface Call extends TypedEventTarget<CallEventMap> {
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
  readonly remoteDisplayName: string | undefined;
  readonly state: CallState;
  /**
   * Who takes part in the call besides this user. Conference calls: everyone in the room, this user included
   * (`id` = user id, phone number or SIP identity, with `muted` and `speaking`), kept current by the service; see the
   * `participantjoined`, `participantleft` and `participantchanged` events. A new frozen array on every change.
   */
  readonly participants: readonly CallParticipant[];
  /** An immutable snapshot; a new object after every change. */
  readonly details: CallDetails;
  /** This side's microphone (and camera) stream, once acquired. */
  readonly localStream: MediaStream | null;
  /** The other side's stream, once it arrived. */
  readonly remoteStream: MediaStream | null;
  readonly isMuted: boolean;
  readonly isVideoPaused: boolean;
  readonly isRemoteMuted: boolean;
  readonly isRemoteVideoPaused: boolean;
  /** True when this call carries video (offered, and for incoming calls answered with video). */
  readonly hasVideo: boolean;
  /** Quality warnings active right now (see the `qualitywarning` event). */
  readonly qualityWarnings: ReadonlySet<QualityWarningName>;
  /**
   * Answers an incoming call. With `{ video: false }` a video call is answered with audio only.
   * Throws a `capability` error on outgoing calls and on calls that are no longer ringing.
   */
  answer(options?: { video?: boolean }): void;
  /**
   * Ends the call in any state: declines a ringing incoming call (the caller sees `denied`), cancels an outgoing
   * call that is not answered yet (the callee sees `canceled`), or hangs up (both see `hungUp`).
   */
  hangup(): void;
  /**
   * A small summary of the media path (codec, bitrate, round-trip time, jitter, loss) for apps and support.
   * Resolves `undefined` while there is no media connection.
   */
  getStats(): Promise<CallStats | undefined>;
  /**
   * Sends DTMF digits (`0-9 * # A-D`) on a phone or SIP call; the gateway plays them as RFC 4733 telephone-events.
   * Throws an `argument` error for other digits and a `capability` error on other calls or before `established`.
   */
  sendDtmf(digits: string): void;
  /** Mutes the microphone (the other side is told). */
  mute(): void;
  unmute(): void;
  /** Stops sending camera images (the other side shows a placeholder). */
  pauseVideo(): void;
  resumeVideo(): void;
  /** True while this side holds the call (`hold()`). */
  readonly isOnHold: boolean;
  /** True while the other side holds the call (this side hears the hold tone). */
  readonly isRemoteOnHold: boolean;
  /**
   * Puts the call on hold: no media flows either way (no renegotiation), the other side is told (it hears a soft hold
   * tone), timers and `details.duration` keep running and the call does not time out. Throws a `capability` error
   * (`invalid-state`) unless the call is established (or reconnecting). Holding a held call does nothing.
   */
  hold(): void;
  /**
   * Resumes a held call. With another call of the same client going on, that one is put on hold first (swap): at
   * most one call is ever off hold. Throws a `capability` error (`invalid-state`) unless the call is established
   * (or reconnecting).
   */
  unhold(): void;
  /** True while this side shares its screen (see `startScreenShare()`). */
  readonly isScreenSharing: boolean;
  /** True while the other side shares its screen: its video is a screen (show it whole, not cropped). */
  readonly isRemoteScreenSharing: boolean;
  /**
   * Shares a screen, window or tab (the browser asks which) in place of the camera; the other side is told
   * (`isRemoteScreenSharing`). The camera comes back with `stopScreenShare()` or when the user stops sharing from
   * the browser's own control. Call it from a user gesture (a click). Video calls between app users only: on an
   * audio-only, phone, SIP or conference call it rejects with a `capability` error `screen-share-needs-video`
   * (`screen-share-not-supported` where the browser cannot share, `invalid-state` before the call is established);
   * a refused or cancelled picker rejects with a `media` error.
   */
  startScreenShare(): Promise<void>;
  /** Stops sharing the screen: the chosen camera comes back. Nothing happens when not sharing. */
  stopScreenShare(): Promise<void>;
}

/** Base class of every event a `Call` dispatches: `event.call` is the call. */
export class CallEvent extends Event {
  constructor(type: string, readonly call: Call) {
    super(type);
  }
}

/** `statechange`: the call moved from `previousState` to `state`. */
export class CallStateChangeEvent extends CallEvent {
  static readonly type = 'statechange';
  constructor(call: Call, readonly state: CallState, readonly previousState: CallState) {
    super(CallStateChangeEvent.type, call);
  }
}
/** `progressing`: the callee's device has the invite. Start a progress tone here. */
export class CallProgressingEvent extends CallEvent {
  static readonly type = 'progressing';
  constructor(call: Call) { super(CallProgressingEvent.type, call); }
}
/** `ringing`: the call is ringing at the callee. */
export class CallRingingEvent extends CallEvent {
  static readonly type = 'ringing';
  constructor(call: Call) { super(CallRingingEvent.type, call); }
}
/** `answered`: the callee answered; media is being connected. */
export class CallAnsweredEvent extends CallEvent {
  static readonly type = 'answered';
  constructor(call: Call) { super(CallAnsweredEvent.type, call); }
}
/** `established`: media flows both ways. Stop any progress tone here. */
export class CallEstablishedEvent extends CallEvent {
  static readonly type = 'established';
  constructor(call: Call) { super(CallEstablishedEvent.type, call); }
}
/** `reconnecting`: the media path of an established call was lost; `established` follows if it recovers. */
export class CallReconnectingEvent extends CallEvent {
  static readonly type = 'reconnecting';
  constructor(call: Call) { super(CallReconnectingEvent.type, call); }
}
/** `ended`: the call is over; `call.details.endCause` (and `error`) say why. */
export class CallEndedEvent extends CallEvent {
  static readonly type = 'ended';
  constructor(call: Call) { super(CallEndedEvent.type, call); }
}
/** `remotestream`: the remote party's media stream arrived (once per call, with all its tracks). */
export class CallRemoteStreamEvent extends CallEvent {
  static readonly type = 'remotestream';
  constructor(call: Call, readonly stream: MediaStream) { super(CallRemoteStreamEvent.type, call); }
}
/** `mediachange`: local or remote mute / video pause changed. */
export class CallMediaChangeEvent extends CallEvent {
  static readonly type = 'mediachange';
  constructor(call: Call) { super(CallMediaChangeEvent.type, call); }
}
/** `detailschange`: `call.details` was replaced by a new snapshot. Fires for every change. */
export class CallDetailsChangeEvent extends CallEvent {
  static readonly type = 'detailschange';
  constructor(call: Call) { super(CallDetailsChangeEvent.type, call); }
}

/** `qualitywarning`: a quality warning was raised (`active` true) or cleared (`active` false). */
export class CallQualityWarningEvent extends CallEvent {
  static readonly type = 'qualitywarning';
  constructor(call: Call, readonly name: QualityWarningName, readonly active: boolean) {
    super(CallQualityWarningEvent.type, call);
  }
}

/** Who held or resumed the call: this side (`hold()` / `unhold()`) or the other. */
export type HoldChangeSource = 'local' | 'remote';

/**
 * `holdchange`: the call was put on hold or resumed; `onHold` is the new `isOnHold` (`by: 'local'`) or
 * `isRemoteOnHold` (`by: 'remote'`).
 */
export class CallHoldChangeEvent extends CallEvent {
  static readonly type = 'holdchange';
  constructor(call: Call, readonly onHold: boolean, readonly by: HoldChangeSource) {
    super(CallHoldChangeEvent.type, call);
  }
}

/** `participantjoined`: someone joined the conference room (`call.participants` already includes them). */
export class CallParticipantJoinedEvent extends CallEvent {
  static readonly type = 'participantjoined';
  constructor(call: Call, readonly participant: CallParticipant) { super(CallParticipantJoinedEvent.type, call); }
}
/** `participantleft`: someone left the conference room. */
export class CallParticipantLeftEvent extends CallEvent {
  static readonly type = 'participantleft';
  constructor(call: Call, readonly participant: CallParticipant) { super(CallParticipantLeftEvent.type, call); }
}
/** `participantchanged`: a participant's `muted`, `speaking` or `displayName` changed. */
export class CallParticipantChangedEvent extends CallEvent {
  static readonly type = 'participantchanged';
  constructor(call: Call, readonly participant: CallParticipant, readonly previous: CallParticipant) {
    super(CallParticipantChangedEvent.type, call);
  }
}

/** `screensharechange`: `call.isScreenSharing` or `call.isRemoteScreenSharing` changed (`by` says which side). */
export class CallScreenShareChangeEvent extends CallEvent {
  static readonly type = 'screensharechange';
  constructor(call: Call, readonly sharing: boolean, readonly by: 'local' | 'remote') {
    super(CallScreenShareChangeEvent.type, call);
  }
}

export interface CallEventMap {
  statechange: CallStateChangeEvent;
  progressing: CallProgressingEvent;
  ringing: CallRingingEvent;
  answered: CallAnsweredEvent;
  established: CallEstablishedEvent;
  reconnecting: CallReconnectingEvent;
  ended: CallEndedEvent;
  remotestream: CallRemoteStreamEvent;
  mediachange: CallMediaChangeEvent;
  detailschange: CallDetailsChangeEvent;
  participantjoined: CallParticipantJoinedEvent;
  participantleft: CallParticipantLeftEvent;
  participantchanged: CallParticipantChangedEvent;
  qualitywarning: CallQualityWarningEvent;
  holdchange: CallHoldChangeEvent;
  screensharechange: CallScreenShareChangeEvent;
}

/** `incomingcall`: a call arrived; answer it with `event.call.answer()` or decline with `hangup()`. */
export class IncomingCallEvent extends Event {
  static readonly type = 'incomingcall';
  constructor(readonly call: Call) { super(IncomingCallEvent.type); }
}
/** `callstarted`: an outgoing call was placed by this client (useful for UI that shows any current call). */
export class CallStartedEvent extends Event {
  static readonly type = 'callstarted';
  constructor(readonly call: Call) { super(CallStartedEvent.type); }
}
/** `connectionstatechange`: the signalling connection changed state. */
export class ConnectionStateChangeEvent extends Event {
  static readonly type = 'connectionstatechange';
  constructor(readonly state: ConnectionState, readonly error?: CallingError) { super(ConnectionStateChangeEvent.type); }
}
/** `error`: a client-level error not tied to one call (e.g. the signalling connection failed). */
export class CallClientErrorEvent extends Event {
  static readonly type = 'error';
  constructor(readonly error: CallingError) { super(CallClientErrorEvent.type); }
}

/**
 * `devicechange` (client): the browser's device lists or this client's chosen devices changed. `fallback` lists the
 * kinds whose chosen device went away (unplugged): the calls moved to the system default.
 */
export class DeviceChangeEvent extends Event {
  static readonly type = 'devicechange';
  constructor(readonly devices: MediaDeviceLists, readonly fallback: readonly DeviceKind[]) { super(DeviceChangeEvent.type); }
}

export interface CallClientEventMap {
  incomingcall: IncomingCallEvent;
  callstarted: CallStartedEvent;
  connectionstatechange: ConnectionStateChangeEvent;
  error: CallClientErrorEvent;
  devicechange: DeviceChangeEvent;
}

const STATE_EVENTS = {
  initiating: undefined,
  progressing: CallProgressingEvent,
  ringing: CallRingingEvent,
  answered: CallAnsweredEvent,
  established: CallEstablishedEvent,
  reconnecting: CallReconnectingEvent,
  ended: CallEndedEvent,
} satisfies Record<CallState, (new (call: Call) => CallEvent) | undefined>;

/** The events a move from `previous` to `state` fires, in order: `statechange`, `detailschange`, then the state's own. */
export function stateChangeEvents(call: Call, state: CallState, previous: CallState): CallEvent[] {
  const Own = STATE_EVENTS[state];
  return [new CallStateChangeEvent(call, state, previous), new CallDetailsChangeEvent(call), ...(Own ? [new Own(call)] : [])];
}
