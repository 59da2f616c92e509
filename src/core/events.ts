import type { Call } from './call.js';
import type { CallParticipant, CallState, ConnectionState } from './types.js';
import type { CallingError } from './errors.js';
import type { QualityWarningName } from './quality.js';

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

export interface CallClientEventMap {
  incomingcall: IncomingCallEvent;
  callstarted: CallStartedEvent;
  connectionstatechange: ConnectionStateChangeEvent;
  error: CallClientErrorEvent;
}
