import type { CallingError } from './errors.js';

/**
 * Call states, in the order a call normally goes through them. `ended` is final. `reconnecting`: an established
 * call lost its media path and is trying to get it back (it returns to `established`, or ends with `failure`).
 */
export type CallState = 'initiating' | 'progressing' | 'ringing' | 'answered' | 'established' | 'reconnecting' | 'ended';

/** Why a call ended (Sinch's `SINCallEndCause`). */
export type CallEndCause =
  | 'hungUp' // a party hung up an established call
  | 'denied' // the callee declined (or was busy)
  | 'canceled' // the caller hung up before the callee answered
  | 'noAnswer' // nobody answered within the ring timeout
  | 'unavailable' // the callee is not online / not reachable
  | 'timeout' // the call could not be set up in time
  | 'failure' // a media, network or signalling failure
  | 'otherDeviceAnswered'; // the call was answered on another device of the same user

export type CallDirection = 'outgoing' | 'incoming';

/** The kind of call: app-to-app, app-to-phone, app-to-SIP or conference. */
export type CallType = 'user' | 'phone' | 'sip' | 'conference';

/** A party of a call. */
export interface CallParticipant {
  /** User id, phone number (E.164) or SIP identity. */
  readonly id: string;
  readonly displayName?: string;
  /** Conference calls: this participant's microphone is muted (by themselves or by the app's backend). */
  readonly muted?: boolean;
  /** Conference calls: this participant is talking now (from the energy of their audio on the server). */
  readonly speaking?: boolean;
}

/**
 * Everything known about a call: an immutable snapshot, replaced (not mutated) on every change, so it can be
 * compared by identity (as `@lit/context` does). Times are `Date`s; `duration` is whole seconds established.
 */
export interface CallDetails {
  readonly startedTime: Date;
  readonly progressedTime?: Date;
  readonly rungTime?: Date;
  readonly answeredTime?: Date;
  readonly establishedTime?: Date;
  readonly endedTime?: Date;
  /** Seconds between `establishedTime` and `endedTime` (or now, while established); 0 if never established. */
  readonly duration: number;
  readonly endCause?: CallEndCause;
  readonly error?: CallingError;
  /** True when the call offers video (known before answering). */
  readonly isVideoOffered: boolean;
  /** Custom headers sent with the call (SIP calls: `x-` headers). */
  readonly headers: Readonly<Record<string, string>>;
}

/** The signalling connection's state. */
export type ConnectionState = 'disconnected' | 'connecting' | 'connected' | 'reconnecting';

/** A token, or a function that fetches a fresh one (called on every connect). */
export type TokenSource = string | (() => Promise<string>);
