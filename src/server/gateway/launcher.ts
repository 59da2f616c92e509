/**
 * Starts the gateway as a child process of the calling server (`npm start`) and keeps it running: a crash in
 * native WebRTC code ends only the child, which is restarted (1 s, 2 s, 4 s … up to 30 s apart). The parent
 * mints its service tokens and answers the credits hook; configuration errors (exit code 2) are not retried.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { CallAuthorization, CallAuthorizationRequest, CallDetailRecord, GatewayStats } from './gateway.js';
import type { ChildMessage, ParentMessage } from './process.js';
import { TEST_NUMBER } from './test-number.js';
import { schedulingPrefix } from '../node-peer/threads.js';

export interface GatewayProcessOptions {
  /** The calling server's URL the gateway registers with. */
  server: string;
  /** A fresh service token for the gateway's reserved id (one per connection). */
  mintToken: () => Promise<string>;
  /** The credits hook; default: everything allowed. */
  authorize?: (request: CallAuthorizationRequest) => CallAuthorization | Promise<CallAuthorization>;
  onCallRecord?: (record: CallDetailRecord) => void;
  /** TURN servers for the WebRTC legs, minted for each (re)start of the child. */
  iceServers?: () => RTCIceServer[];
  /** Extra environment (SIP_* variables); default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  log?: (message: string) => void;
}

export interface GatewayProcess {
  /** Resolves with the SIP address once the gateway is registered and listening (first start). */
  readonly ready: Promise<{ host: string; port: number }>;
  /** The current SIP address (after restarts too). */
  readonly sip: { host: string; port: number } | undefined;
  /** The child's process id (for CPU figures), while it runs. */
  readonly pid: number | undefined;
  /** True when the child runs without CAP_SYS_NICE (see `schedulingPrefix`). */
  readonly realtimeDropped: boolean;
  /** Live figures from the child (calls, RTP and jitter-buffer counters, post-dial delays, pacer, threads). */
  stats(): Promise<GatewayStats>;
  stop(): Promise<void>;
}

const ENTRY = fileURLToPath(new URL('./process.ts', import.meta.url));

export function startGatewayProcess(options: GatewayProcessOptions): GatewayProcess {
  const log = options.log ?? ((m: string) => console.log(`gateway: ${m}`));
  let child: ChildProcess | undefined;
  let stopping = false;
  let failures = 0;
  let sip: { host: string; port: number } | undefined;
  let realtimeDropped = false;
  let prefixRefused = false;
  let nextStats = 1;
  const statsWaiting = new Map<number, (s: GatewayStats) => void>();
  let resolveReady!: (v: { host: string; port: number }) => void;
  let rejectReady!: (e: Error) => void;
  const ready = new Promise<{ host: string; port: number }>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined);

  const spawnChild = () => {
    const env: NodeJS.ProcessEnv = { ...(options.env ?? process.env), CALLING_SERVER_URL: options.server };
    const iceServers = options.iceServers?.() ?? [];
    if (iceServers.length) env.GATEWAY_ICE_SERVERS = JSON.stringify(iceServers);
    const hasTsx = /--import[= ]tsx/.test(env.NODE_OPTIONS ?? '') || process.execArgv.some((a) => a.includes('tsx'));
    const execArgv = hasTsx ? process.execArgv.filter((a) => !a.startsWith('--inspect')) : ['--import', 'tsx'];
    const prefix = prefixRefused ? [] : schedulingPrefix(env);
    realtimeDropped = prefix[0] === 'setpriv';
    let started = false;
    const c = prefix.length
      ? spawn(prefix[0], [...prefix.slice(1), process.execPath, ...execArgv, ENTRY], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(ENTRY, [], { env, execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child = c;
    const reply = (m: ParentMessage) => {
      if (c.connected) c.send(m);
    };
    c.on('message', (m: ChildMessage) => {
      switch (m.type) {
        case 'token':
          options.mintToken().then((token) => reply({ type: 'token', id: m.id, token }), (e: unknown) => log(`token: ${String(e)}`));
          break;
        case 'authorize':
          Promise.resolve(options.authorize?.(m.request) ?? { allowed: true as const }).then(
            (verdict) => reply({ type: 'authorized', id: m.id, verdict }),
            (e: unknown) => reply({ type: 'authorized', id: m.id, verdict: { allowed: false, code: 'authorization-failed', message: String(e) } }),
          );
          break;
        case 'cdr':
          options.onCallRecord?.(m.record);
          break;
        case 'ready':
          started = true;
          failures = 0;
          sip = m.sip;
          resolveReady(m.sip);
          log(`SIP on udp ${m.sip.host}:${m.sip.port}, registered as calling-gateway`);
          break;
        case 'log':
          log(m.message);
          break;
        case 'stats':
          statsWaiting.get(m.id)?.(m.stats);
          statsWaiting.delete(m.id);
          break;
      }
    });
    c.on('exit', (code, signal) => {
      if (child === c) child = undefined;
      if (stopping) return;
      if (code === 2) {
        rejectReady(new Error('the gateway could not start (see its log)'));
        return;
      }
      if (!started && prefix.length && !prefixRefused) {
        // setpriv/chrt may be refused where the process may not change capabilities or policies (some containers):
        // start plainly rather than fail for ever; calls then keep WebRTC's default thread priorities.
        prefixRefused = true;
        log(`did not start under '${prefix.join(' ')}' (${signal ?? code}); starting without changing thread scheduling`);
        spawnChild();
        return;
      }
      failures++;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(failures - 1, 5));
      log(`exited (${signal ?? code}); restarting in ${delay / 1000} s`);
      setTimeout(() => { if (!stopping) spawnChild(); }, delay).unref();
    });
  };
  spawnChild();

  return {
    ready,
    get sip() { return sip; },
    get pid() { return child?.pid; },
    get realtimeDropped() { return realtimeDropped; },
    stats: () => new Promise<GatewayStats>((resolve, reject) => {
      const c = child;
      if (!c?.connected) {
        reject(new Error('the gateway is not running'));
        return;
      }
      const id = nextStats++;
      const t = setTimeout(() => {
        statsWaiting.delete(id);
        reject(new Error('no stats from the gateway within 5 s'));
      }, 5000);
      statsWaiting.set(id, (st) => {
        clearTimeout(t);
        resolve(st);
      });
      c.send({ type: 'stats', id } satisfies ParentMessage);
    }),
    stop: async () => {
      stopping = true;
      const c = child;
      if (!c || c.exitCode !== null) return;
      const exited = new Promise<void>((r) => c.once('exit', () => r()));
      if (c.connected) c.send({ type: 'stop' } satisfies ParentMessage);
      const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The test number costs nothing: a 0-credit rate for exactly its digits (longest prefix wins). */
export async function ensureTestNumberFree(store: {
  rateFor(number: string): Promise<{ prefix: string; perMinute: number } | undefined>;
  setRate(prefix: string, perMinute: number, description?: string): Promise<unknown>;
}): Promise<void> {
  const digits = TEST_NUMBER.slice(1);
  const rate = await store.rateFor(TEST_NUMBER);
  if (rate?.prefix !== digits || rate.perMinute !== 0) await store.setRate(digits, 0, 'test number (free)');
}

/**
 * The credits hook on the server's store: phone calls need a rate and a balance covering the first minute
 * (`CallingStore.assertCanCallPhone`); the test number and SIP calls are free.
 */
export function storeAuthorizer(store: { assertCanCallPhone(userId: string, number: string): Promise<unknown> }): (r: CallAuthorizationRequest) => Promise<CallAuthorization> {
  return async (r) => {
    if (r.callType !== 'phone' || r.isTestNumber) return { allowed: true };
    try {
      await store.assertCanCallPhone(r.userId, r.to);
      return { allowed: true };
    } catch (e) {
      const code = typeof e === 'object' && e !== null && 'code' in e && typeof e.code === 'string' ? e.code : 'not-allowed';
      return { allowed: false, code, message: e instanceof Error ? e.message : String(e) };
    }
  };
}
