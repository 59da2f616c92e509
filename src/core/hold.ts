// Hold and call waiting (issue #16): a call's hold state and what it does to the media, and the client-wide rule
// that at most one call is ever off hold.
import { CallingError } from './errors.js';
import type { Call, HoldChangeSource } from './events.js';
import type { CallState } from './types.js';

/** States in which a call can be held or resumed: media is (or was, while it recovers) flowing. */
const HOLDABLE: ReadonlySet<CallState> = new Set<CallState>(['established', 'reconnecting']);

/** Throws the `capability` error of `hold()` / `unhold()` on a call that is not established. */
export function assertHoldable(state: CallState, what: 'held' | 'resumed'): void {
  if (!HOLDABLE.has(state)) {
    throw new CallingError('capability', 'invalid-state', `The call cannot be ${what}: it is ${state}.`);
  }
}

/** What hold needs to reach of a call's media. */
export interface HoldMedia {
  readonly peerConnection: RTCPeerConnection | undefined;
  readonly localStream: MediaStream | null;
  readonly remoteStream: MediaStream | null;
}

/**
 * A call's hold state, both sides, and its effect on the media: while either side holds, every sender sends nothing
 * (`replaceTrack(null)`: no renegotiation, the path and its consent checks stay up) and the received tracks are
 * disabled (silence, black video). Resuming puts the local stream's current tracks back (so a microphone switched
 * meanwhile is the one sent); mute and video pause stay as they were, on the tracks themselves.
 */
export class CallHold {
  local = false;
  remote = false;

  constructor(private readonly media: () => HoldMedia) {}

  /** Either side holds the call: no media flows. */
  get held(): boolean { return this.local || this.remote; }

  /** Sets one side's hold and applies it; false when nothing changed. */
  set(by: HoldChangeSource, onHold: boolean): boolean {
    if ((by === 'local' ? this.local : this.remote) === onHold) return false;
    if (by === 'local') this.local = onHold;
    else this.remote = onHold;
    this.apply();
    return true;
  }

  /** Applies the state to the media again after the media path was restored; true when this side holds the call. */
  reapply(): boolean {
    this.apply();
    return this.local;
  }

  /** Applies the state to the media. */
  apply(): void {
    const { peerConnection: pc, localStream, remoteStream } = this.media();
    const held = this.held;
    for (const t of remoteStream?.getTracks() ?? []) t.enabled = !held;
    if (!pc || pc.connectionState === 'closed') return;
    for (const tr of pc.getTransceivers()) {
      if (tr.currentDirection === 'stopped') continue;
      const want = held ? null : localStream?.getTracks().find((t) => t.kind === tr.receiver.track.kind) ?? null;
      // Always asked, never skipped by comparing `sender.track`: that changes only when an earlier replaceTrack()
      // resolves, so a quick hold-resume-hold would otherwise leave the track that was pending (replaceTrack calls run
      // in order, the last one wins).
      if (held || want) tr.sender.replaceTrack(want).catch(() => undefined);
    }
  }
}

/**
 * At most one call is ever off hold: before `except` is answered or resumed, every other established call of the
 * client that is not held by this side is put on hold.
 */
export function holdOthers(calls: Iterable<Call>, except: Call): void {
  for (const call of calls) {
    if (call !== except && HOLDABLE.has(call.state) && !call.isOnHold) call.hold();
  }
}

/** Calls that count towards `maxCalls`: every call that has not ended. */
export function liveCallCount(calls: Iterable<Call>): number {
  let n = 0;
  for (const c of calls) if (c.state !== 'ended') n++;
  return n;
}
