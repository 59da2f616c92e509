import { createContext } from '@lit/context';
import type { Call, CallClient, CallDetails, CallDirection, CallingError, CallState, CallType, ConnectionState } from '../core/index.js';

/**
 * What a `Call` looks like at one moment. A new frozen object is made on every change of the call, so consumers
 * (compared with `Object.is` by `@lit/context`) re-render exactly when something changed.
 */
export interface CallSnapshot {
  readonly call: Call;
  readonly state: CallState;
  readonly direction: CallDirection;
  readonly callType: CallType;
  /** The other party: user id, phone number, SIP address or conference id. */
  readonly remoteId: string;
  /** The other party's display name, when known; otherwise `remoteId`. */
  readonly remoteName: string;
  readonly details: CallDetails;
  readonly hasVideo: boolean;
  readonly isMuted: boolean;
  readonly isVideoPaused: boolean;
  readonly isRemoteMuted: boolean;
  readonly isRemoteVideoPaused: boolean;
  /** This side holds the call. */
  readonly isOnHold: boolean;
  /** The other side holds the call. */
  readonly isRemoteOnHold: boolean;
  readonly localStream: MediaStream | null;
  readonly remoteStream: MediaStream | null;
}

/** Everything a `<call-provider>` shares with its descendants. Immutable: replaced on every change. */
export interface CallingState {
  readonly client: CallClient | null;
  readonly connectionState: ConnectionState;
  /** The last client-level error (failed start, lost signalling), cleared when connected again. */
  readonly error: CallingError | null;
  /**
   * The current call: the one not on hold (else a held one, else one ringing in), kept after it ends so its outcome
   * stays visible. With call waiting, a second call ringing in is in `calls`, not here.
   */
  readonly call: CallSnapshot | null;
  /** Every call of the client that has not ended, in the order they began (two with call waiting). */
  readonly calls: readonly CallSnapshot[];
  /** The call that is going on (answered or placed, not held by this side), if any: `call` unless that one is held or ringing in. */
  readonly activeCall: CallSnapshot | null;
  /** Display name (or user id) of this user, for local placeholders. */
  readonly localName: string;
  /** Whether the remote party's audio could not start because the browser blocked autoplay. */
  readonly audioBlocked: boolean;
  /** Starts blocked sound (the remote audio and the audio controller's); call it from a user gesture. */
  readonly unlockAudio: () => Promise<void>;
  /** Routes the remote audio to an output device (`HTMLMediaElement.setSinkId`); rejects where unsupported. */
  readonly setAudioOutput: (deviceId: string) => Promise<void>;
  /** The current audio output device id ('' = system default). */
  readonly audioOutput: string;
}

/** The context key `<call-provider>` provides and every calling element consumes. */
export const callingContext = createContext<CallingState>(Symbol.for('calling-elements/calling-state'));

/** Builds the snapshot of a call as it is now. */
export function snapshotOf(call: Call): CallSnapshot {
  // Conference calls list the room's members in `participants`; the party called is the room.
  const remote = call.callType === 'conference' ? { displayName: call.remoteDisplayName } : call.participants[0];
  return Object.freeze({
    call,
    state: call.state,
    direction: call.direction,
    callType: call.callType,
    remoteId: call.remoteUserId,
    remoteName: remote?.displayName ?? call.remoteUserId,
    details: call.details,
    hasVideo: call.hasVideo,
    isMuted: call.isMuted,
    isVideoPaused: call.isVideoPaused,
    isRemoteMuted: call.isRemoteMuted,
    isRemoteVideoPaused: call.isRemoteVideoPaused,
    isOnHold: call.isOnHold,
    isRemoteOnHold: call.isRemoteOnHold,
    localStream: call.localStream,
    remoteStream: call.remoteStream,
  });
}

/** An incoming call ringing while another call of the client goes on (call waiting). */
export function isWaiting(call: Call, live: readonly Call[]): boolean {
  return call.direction === 'incoming' && call.state === 'ringing' && live.some((c) => c !== call && !(c.direction === 'incoming' && c.state === 'ringing'));
}

/**
 * Which of the client's live calls (in the order they began) the elements show as the current one: the latest not
 * held by this side and not waiting, else the latest held one, else the latest ringing in.
 */
export function currentCallOf(live: readonly Call[]): Call | undefined {
  const latest = [...live].reverse();
  return latest.find((c) => !c.isOnHold && !isWaiting(c, live)) ?? latest.find((c) => !isWaiting(c, live)) ?? latest[0];
}
