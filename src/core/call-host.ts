// What a call needs from the client that owns it (CallClient builds a CallHost per call) and how it is created.
import type { Call } from './events.js';
import type { DeviceManager } from './media-devices.js';
import type { PeerTransport } from './transport/peer-transport.js';
import type { CallDirection, CallParticipant, CallState, CallType } from './types.js';

/** How far a call has come: a state is later than another when its number is larger. */
export const STATE_ORDER: Record<CallState, number> = {
  initiating: 0, progressing: 1, ringing: 2, answered: 3, established: 4, reconnecting: 4, ended: 5,
};

/** Whole seconds from `a` to `b` (never negative). */
export function secondsBetween(a: Date, b: Date = new Date()): number {
  return Math.max(0, Math.floor((b.getTime() - a.getTime()) / 1000));
}

/** A call's timers: each forgets itself when it fires, and `clear()` stops those still pending. */
export class Timers {
  private readonly pending = new Set<ReturnType<typeof setTimeout>>();

  start(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.pending.delete(t);
      fn();
    }, ms);
    this.pending.add(t);
  }

  clear(): void {
    for (const t of this.pending) clearTimeout(t);
    this.pending.clear();
  }
}

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
  /** The client's device manager (media chunk): switches tracks and shares screens. */
  devices(): Promise<DeviceManager>;
  /** Declining an incoming call declines it on every device of this user (`CallClientOptions.declineOnAllDevices`). */
  readonly declineOnAllDevices?: boolean;
  /** Puts every other established call of the client on hold (before this one is answered or resumed). */
  holdOthers(call: Call): void;
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
