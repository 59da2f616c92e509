/**
 * Conference rooms: `attachConferences(app, …)` mounts the REST routes and, once the server listens, `start()` runs
 * the conference service in a child process registered as `calling-conference`. Everything else goes through
 * `ConferenceBackend` (see `types.ts`): swapping the built-in mixer for an SFU/MCU is one module.
 */
import type { Express } from 'express';
import type { ApiKey } from '../api/router.js';
import type { RateLimitOptions } from '../api/rate-limit.js';
import type { CallingStorage } from '../storage/store.js';
import { CONFERENCE_PEER_ID } from '../../core/protocol.js';
import type { CallEndCause } from '../../core/types.js';
import { ConferenceProcess } from './process.js';
import { createConferenceRouter } from './rest.js';
import {
  CONFERENCE_CODECS, DEFAULT_CODEC, DEFAULT_LIMITS, isConferenceCodec, type ConferenceBackend, type ConferenceCodec, type ConferenceLimits,
  type RoomEvent,
} from './types.js';

export { ConferenceService, type ConferenceServiceOptions, type ClockStats } from './service.js';
export { ConferenceProcess, type ConferenceProcessOptions } from './process.js';
export { createConferenceRouter } from './rest.js';
export { Mixer, MIX_RATE, FRAME_SAMPLES, toneAmplitude, toneShare, frameDb, type MixerOptions } from './mixer.js';
export * from './types.js';

const END_CAUSES: ReadonlySet<string> = new Set<CallEndCause>([
  'hungUp', 'denied', 'canceled', 'noAnswer', 'unavailable', 'timeout', 'failure', 'otherDeviceAnswered',
]);

export interface ConferenceSettings {
  limits?: Partial<ConferenceLimits>;
  /** Only 127.0.0.1 ICE candidates (tests). */
  loopbackOnly?: boolean;
  ringTimeout?: number;
  /** Phone / SIP callouts through the calling gateway (run it too). */
  gateway?: boolean;
  /** The participants' audio codec. Default `CONFERENCE_CODEC`, else `DEFAULT_CODEC`. */
  codec?: ConferenceCodec;
  /** TURN servers for the participants' legs, minted each time the service (re)starts. */
  iceServers?: () => RTCIceServer[];
}

export interface ConferenceHandle {
  /** The running backend, once started. */
  readonly backend: ConferenceBackend | undefined;
  readonly process: ConferenceProcess | undefined;
  start(server: string, mintToken: () => Promise<string>, settings?: ConferenceSettings): Promise<void>;
  stop(): Promise<void>;
}

/** The participants' codec from `CONFERENCE_CODEC` (`opus`, `g722`, `pcmu`; default `DEFAULT_CODEC`). */
export function codecFromEnv(env: NodeJS.ProcessEnv = process.env): ConferenceCodec {
  const raw = env.CONFERENCE_CODEC;
  if (raw === undefined || raw === '') return DEFAULT_CODEC;
  const codec = raw.toLowerCase();
  if (!isConferenceCodec(codec)) throw new RangeError(`CONFERENCE_CODEC must be one of ${CONFERENCE_CODECS.join(', ')} (got "${raw}").`);
  return codec;
}

/**
 * Limits from `CONFERENCE_MAX_PARTICIPANTS`, `CONFERENCE_MAX_ROOMS`, `CONFERENCE_EMPTY_TIMEOUT_MS`. Also checks the
 * other `CONFERENCE_*` settings (`CONFERENCE_CODEC`), so `npm start` refuses a bad one before anything starts.
 */
export function limitsFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<ConferenceLimits> {
  codecFromEnv(env);
  const read = (name: string, min: number): number | undefined => {
    const raw = env[name];
    if (raw === undefined || raw === '') return undefined;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`${name} must be an integer ≥ ${min} (got "${raw}").`);
    return n;
  };
  const out: Partial<ConferenceLimits> = {};
  const p = read('CONFERENCE_MAX_PARTICIPANTS', 2);
  const r = read('CONFERENCE_MAX_ROOMS', 1);
  const t = read('CONFERENCE_EMPTY_TIMEOUT_MS', 0);
  if (p !== undefined) out.maxParticipants = p;
  if (r !== undefined) out.maxRooms = r;
  if (t !== undefined) out.emptyRoomTimeout = t;
  return out;
}

/**
 * Mounts `/api/v1/conferences` on `app` (call before mounting the main `/api/v1` router) and returns a handle to
 * start the service once the server listens. Room events go into the call records: the recorder already sees a
 * participant's invite and the service's media answer; the handle ends each participant's record when they leave
 * and records REST callouts (which the recorder cannot attribute).
 */
export function attachConferences(app: Express, options: {
  keys: readonly ApiKey[]; rateLimit?: RateLimitOptions; store?: CallingStorage;
  /** Several nodes: the backend the REST routes use, given this node's own (see `src/server/cluster/conferences.ts`). */
  backend?: (local: () => ConferenceBackend | undefined) => () => ConferenceBackend | undefined;
}): ConferenceHandle {
  let proc: ConferenceProcess | undefined;
  const local = () => proc;
  const backend = options.backend ? options.backend(local) : local;
  app.use('/api/v1/conferences', createConferenceRouter({ backend, keys: options.keys, ...(options.rateLimit ? { rateLimit: options.rateLimit } : {}) }));
  const onRecord = (e: RoomEvent) => {
    const store = options.store;
    if (!store || !e.callId || !e.participantId) return;
    const { callId, participantId } = e;
    const at = Date.parse(e.at);
    (async () => {
      if (e.type === 'participant-joined' && e.direction === 'outgoing') {
        await store.callStarted({ callId, caller: CONFERENCE_PEER_ID, callee: participantId, calleePeer: e.peerId ?? participantId, callType: 'conference', video: false, at });
        await store.callEstablished(callId, at);
      } else if (e.type === 'participant-joined') {
        await store.callEstablished(callId, at); // normally already set by the recorder from the media answer
      } else if (e.type === 'participant-left') {
        const cause = END_CAUSES.has(e.cause ?? '') ? e.cause as CallEndCause : 'hungUp';
        await store.callEnded(callId, { at, cause, error: null, endedBy: CONFERENCE_PEER_ID });
      }
    })().catch((err: unknown) => console.error('conference: call record not written', err));
  };
  return {
    get backend() { return proc; },
    get process() { return proc; },
    async start(server, mintToken, settings = {}) {
      if (proc) return;
      proc = await ConferenceProcess.start({
        server, mintToken, onRecord,
        limits: { ...DEFAULT_LIMITS, ...settings.limits },
        ...(settings.loopbackOnly ? { loopbackOnly: true } : {}),
        ...(settings.ringTimeout ? { ringTimeout: settings.ringTimeout } : {}),
        ...(settings.gateway ? { gateway: true } : {}),
        codec: settings.codec ?? codecFromEnv(),
        ...(settings.iceServers ? { iceServers: settings.iceServers } : {}),
      });
    },
    async stop() {
      const p = proc;
      proc = undefined;
      await p?.stop();
    },
  };
}
