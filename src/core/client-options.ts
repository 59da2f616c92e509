import type { AudioControllerOptions } from './audio/audio-controller.js';
import type { CallTimings } from './call-host.js';
import { CallingError } from './errors.js';
import type { TokenSource } from './types.js';

export interface CallClientOptions {
  /** This user's id: letters, digits and single '-' / '_' between them, at most 64 characters. */
  userId: string;
  /** The calling server's URL, e.g. `http://localhost:9000`. Signalling runs on its `/peerjs` path. */
  server: string;
  /** Authentication token (JWT) for the signalling server, or a function returning one. */
  token?: TokenSource;
  /** Shown to the people this user calls. */
  displayName?: string;
  /**
   * ICE servers (STUN/TURN). Default: the TURN servers the calling server hands this client (`TURN_URLS`, with
   * credentials minted for this user), else none: nothing talks to a public server unless you say so.
   */
  iceServers?: RTCIceServer[];
  /** `relay` sends all media through the TURN servers in `iceServers` (hides addresses, passes strict firewalls). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** Outgoing calls not answered within this many ms end with `noAnswer`. Default 45 000. */
  noAnswerTimeout?: number;
  /** The callee's device must take the invite within this many ms, else the call ends with `timeout`. Default 5 000. */
  connectTimeout?: number;
  /** Media must flow within this many ms of answering. Default 15 000. */
  establishTimeout?: number;
  /** How long a media connection may stay interrupted before the call fails. Default 3 000. */
  disconnectGrace?: number;
  /** Options of `client.audioController`; `false` turns the automatic call tones off. Default: tones on. */
  audio?: false | AudioControllerOptions;
  /** How often established calls read their stats for quality warnings (ms). Default 2 000. */
  qualityInterval?: number;
  /**
   * Where calls get their microphone (and camera) stream. Default `navigator.mediaDevices.getUserMedia`. Pass your
   * own to send processed or synthetic audio (e.g. a Web Audio graph's `MediaStreamAudioDestinationNode.stream`).
   */
  getUserMedia?: (constraints: MediaStreamConstraints) => Promise<MediaStream>;
  /**
   * This device's tag (1 to 32 letters and digits): the client registers `<userId> <deviceId>`, and a second client
   * with the same user id and device id is refused. Default: the first device of the user online takes the plain user
   * id, a further one `<userId> <random tag>` (random per client, kept across reconnects).
   */
  deviceId?: string;
  /**
   * Declining an incoming call on this device declines it on every device of this user (the caller sees `denied`).
   * Default false: the user's other devices keep ringing, and the caller sees `denied` once every device declined.
   */
  declineOnAllDevices?: boolean;
  /**
   * How many calls this client takes at once (call waiting). With 2 (the default) a call arriving during another
   * rings with the call-waiting tone; answering it holds the other. A call beyond this is declined at once (the
   * caller sees `denied`, as busy) without an `incomingcall` event. 1: one call at a time.
   */
  maxCalls?: number;
}

// `start()` gives up when the server neither registers nor refuses the client within this time (a socket that
// opens and then says nothing must not leave the app waiting for ever).
export const START_DEADLINE_MS = 15_000;
// How long a call waits for the server's list of the callee's devices before it calls the plain user id.
export const DEVICE_QUERY_TIMEOUT_MS = 3_000;

const DEFAULT_TIMINGS: CallTimings = {
  noAnswerTimeout: 45_000,
  connectTimeout: 5_000,
  establishTimeout: 15_000,
  disconnectGrace: 3_000,
  qualityInterval: 2_000,
};

/** The timings of `options`, defaults filled in; throws an `argument` error for a value that is not a positive number. */
export function callTimings(options: CallClientOptions): CallTimings {
  return {
    noAnswerTimeout: positive(options.noAnswerTimeout, DEFAULT_TIMINGS.noAnswerTimeout, 'noAnswerTimeout'),
    connectTimeout: positive(options.connectTimeout, DEFAULT_TIMINGS.connectTimeout, 'connectTimeout'),
    establishTimeout: positive(options.establishTimeout, DEFAULT_TIMINGS.establishTimeout, 'establishTimeout'),
    disconnectGrace: positive(options.disconnectGrace, DEFAULT_TIMINGS.disconnectGrace, 'disconnectGrace'),
    qualityInterval: positive(options.qualityInterval, DEFAULT_TIMINGS.qualityInterval, 'qualityInterval'),
  };
}

/** `maxCalls` with its default (2); throws an `argument` error unless it is a whole number of at least 1. */
export function maxCallsOf(options: CallClientOptions): number {
  const n = options.maxCalls ?? 2;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw new CallingError('argument', 'invalid-option', 'maxCalls must be a whole number of at least 1.');
  }
  return n;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new CallingError('argument', 'invalid-option', `${name} must be a positive number of milliseconds.`);
  }
  return value;
}
