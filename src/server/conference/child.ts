/**
 * The conference service's child-process entry (forked by `ConferenceProcess`). A native crash in WebRTC or a busy
 * mixing loop stays out of the signalling process. Speaks a small request/response protocol over Node's IPC channel:
 * the parent sends `{ id, method, args }`, the child answers `{ id, ok, value | error }`; the child asks the parent for
 * signalling tokens (the secret stays in the parent) and forwards room events for the call records.
 */
import { ConferenceService, type ClockStats } from './service.js';
import { ConferenceError, isConferenceCodec, type ConferenceBackend, type ConferenceCodec, type ConferenceLimits, type RoomEvent } from './types.js';
import { CallingError } from '../../core/errors.js';
import { MIXER_MODES, isMixerMode } from './mixer.js';

export interface ChildConfig {
  server: string;
  limits: ConferenceLimits;
  loopbackOnly: boolean;
  ringTimeout?: number;
  gateway?: boolean;
  codec?: ConferenceCodec;
  iceServers?: RTCIceServer[];
}

export type ParentMessage =
  | { type: 'call'; id: number; method: keyof ConferenceBackend; args: unknown[] }
  | { type: 'token'; id: number; token?: string; error?: string }
  | { type: 'stop' };
export type ChildMessage =
  | { type: 'ready' }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: { code: string; message: string } }
  | { type: 'token-request'; id: number }
  | { type: 'record'; event: RoomEvent }
  | { type: 'stats'; stats: ClockStats };

const METHODS: ReadonlySet<string> = new Set(['getRoom', 'listRooms', 'addParticipant', 'setMuted', 'removeParticipant', 'endRoom']);

function send(m: ChildMessage): void {
  process.send?.(m);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env.CONFERENCE_CHILD_CONFIG ?? '{}') as ChildConfig;
  let nextToken = 1;
  const tokenWaiters = new Map<number, { resolve: (t: string) => void; reject: (e: Error) => void }>();
  const token = () => new Promise<string>((resolve, reject) => {
    const id = nextToken++;
    tokenWaiters.set(id, { resolve, reject });
    send({ type: 'token-request', id });
  });
  let service: ConferenceService | undefined;
  process.on('message', (raw: ParentMessage) => {
    if (raw.type === 'token') {
      const w = tokenWaiters.get(raw.id);
      tokenWaiters.delete(raw.id);
      if (raw.token) w?.resolve(raw.token);
      else w?.reject(new Error(raw.error ?? 'no token'));
      return;
    }
    if (raw.type === 'stop') {
      void (service?.stop() ?? Promise.resolve()).finally(() => process.exit(0));
      return;
    }
    if (raw.type === 'call') void handle(raw.id, raw.method, raw.args);
  });
  const handle = async (id: number, method: string, args: unknown[]) => {
    try {
      if (!service) throw new ConferenceError('service-unavailable', 'The conference service is starting.');
      if (!METHODS.has(method) || !Array.isArray(args)) throw new ConferenceError('service-unavailable', 'Unknown operation.');
      const fn = service[method as keyof ConferenceBackend] as (...a: unknown[]) => Promise<unknown>;
      const value = await fn.apply(service, args);
      send({ type: 'result', id, ok: true, value: value ?? null });
    } catch (err) {
      const e = err instanceof CallingError ? err : new ConferenceError('service-unavailable', 'The conference operation failed.');
      send({ type: 'result', id, ok: false, error: { code: e.code, message: e.message } });
    }
  };
  // The parent going away (crash, kill) takes the child with it.
  process.on('disconnect', () => void (service?.stop() ?? Promise.resolve()).finally(() => process.exit(0)));
  // CONFERENCE_MIXER=shared|per-leg (empty: the default, shared; the service reads it); anything else is refused here.
  const mode = process.env.CONFERENCE_MIXER?.trim().toLowerCase() || undefined;
  if (mode !== undefined && !isMixerMode(mode)) throw new Error(`CONFERENCE_MIXER must be one of ${MIXER_MODES.join(', ')} (got "${mode}")`);
  service = await ConferenceService.start({
    server: config.server,
    token,
    limits: config.limits,
    ...(config.ringTimeout ? { ringTimeout: config.ringTimeout } : {}),
    ...(config.gateway ? { gateway: true } : {}),
    ...(isConferenceCodec(config.codec) ? { codec: config.codec } : {}),
    ...(config.loopbackOnly ? { candidateFilter: (a: string) => a === '127.0.0.1' } : {}),
    ...(config.iceServers?.length ? { iceServers: config.iceServers } : {}),
    log: (m) => console.error(`conference: ${m}`),
  });
  service.on('record', (event) => send({ type: 'record', event }));
  // Not back on the signalling server within the deadline: exit, and the parent starts a fresh service.
  service.on('lost', (err) => {
    console.error(`conference: ${err.message}; exiting for a restart`);
    process.exit(1);
  });
  setInterval(() => send({ type: 'stats', stats: { ...service!.stats } }), 1000).unref();
  send({ type: 'ready' });
}

main().catch((err: unknown) => {
  console.error('conference: could not start', err);
  process.exit(1);
});
