// Runs inside Chromium (bundled by bench/run.ts): our CallClient next to raw PeerJS. bench/run.ts opens a fresh page
// for each phase and calls `bench.phase(name, options)`, so a phase that fails leaves nothing behind for the next one.
// Every wait here has a deadline (bench/deadline.ts): a phase that cannot go on fails saying what it waited for.
import { Peer, type MediaConnection } from 'peerjs';
import { CallClient, type Call, type CallClientOptions, type CallState } from '../src/core/index.js';
import { onceEmitted, within } from './deadline.js';

const cfg = (window as unknown as { BENCH: { server: string; host: string; port: number } }).BENCH;
let seq = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${seq++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : NaN; };
const round = (x: number) => Math.round(x * 10) / 10;
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Deadlines: a client's start or a call's setup; a hang-up until `ended`; stopping clients; a bench hook. */
const SETUP_MS = 15_000;
const END_MS = 5_000;
const STOP_MS = 10_000;
const HOOK_MS = 20_000;

// A fresh token per connect from the bench server (same origin).
async function devToken(userId: string): Promise<string> {
  const res = await fetch(`/bench/token?userId=${encodeURIComponent(userId)}`, { signal: AbortSignal.timeout(5000) });
  return ((await res.json()) as { token: string }).token;
}

const started = new Set<CallClient>();
async function client(name: string, options: Partial<CallClientOptions> = {}): Promise<CallClient> {
  const userId = uid(name);
  const c = new CallClient({ userId, server: cfg.server, token: () => devToken(userId), ...options });
  c.setSupportCalling(true);
  started.add(c);
  await within(c.start(), SETUP_MS, `${userId} start`);
  return c;
}
/** Runs `body`, then stops the clients it started; a stop that hangs fails the phase (unless `body` failed first). */
async function withClients<T>(body: () => Promise<T>): Promise<T> {
  const stopAll = () => within(Promise.all([...started].map((c) => c.stop())), STOP_MS, 'clients stop').finally(() => started.clear());
  let result: T;
  try {
    result = await body();
  } catch (err) {
    await stopAll().catch(() => undefined);
    throw err;
  }
  await stopAll();
  return result;
}

/** Waits until `call` is in `state` (at once if it is already); a call that ends first fails with its end cause. */
async function reach(call: Call, state: CallState, ms: number, what = ''): Promise<void> {
  const done = () => call.state === state || call.state === 'ended';
  let check: (() => void) | undefined;
  try {
    await within(new Promise<void>((resolve) => {
      check = () => { if (done()) resolve(); };
      call.addEventListener('statechange', check);
      check();
    }), ms, `${what}call still ${call.state}, not ${state}`);
  } finally {
    call.removeEventListener('statechange', check!);
  }
  if (call.state !== state) {
    const { endCause, error } = call.details;
    throw new Error(`${what}call ended (${endCause}${error ? `, ${error.domain}/${error.code}` : ''}) before ${state}`);
  }
}

interface BenchHooks { restartServer(downMs: number): Promise<void>; turn(action: string): Promise<RTCIceServer | null> }
/** A bench hook (run in Node by bench/run.ts), with a deadline. */
function hook<T>(name: keyof BenchHooks, run: (h: BenchHooks) => Promise<T>): Promise<T> {
  return within(run(window as unknown as BenchHooks), HOOK_MS, `bench hook ${name}`);
}

/** Runs `body` `runs` times; a run that fails is reported with its error, and the next run goes on. */
async function eachRun<T>(runs: number, body: (i: number) => Promise<T>): Promise<{ values: T[]; errors: string[] }> {
  const values: T[] = [];
  const errors: string[] = [];
  for (let i = 0; i < runs; i++) {
    try {
      values.push(await body(i));
    } catch (err) {
      errors.push(`run ${i + 1}: ${message(err)}`);
    }
  }
  return { values, errors };
}

// Resource counters for the soak: PeerConnections not closed, media tracks not stopped, timers pending.
const live = { pcs: new Set<RTCPeerConnection>(), tracks: new Set<MediaStreamTrack>(), timers: new Set<unknown>() };
{
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(config?: RTCConfiguration) {
      super(config);
      live.pcs.add(this);
      this.addEventListener('connectionstatechange', () => { if (this.connectionState === 'closed') live.pcs.delete(this); });
      const close = this.close.bind(this);
      this.close = () => { live.pcs.delete(this); close(); };
    }
  } as typeof RTCPeerConnection;
  const gum = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (c) => {
    const stream = await gum(c);
    for (const t of stream.getTracks()) {
      live.tracks.add(t);
      const stop = t.stop.bind(t);
      t.stop = () => { live.tracks.delete(t); stop(); };
    }
    return stream;
  };
  const [st, ct, si, ci] = [window.setTimeout, window.clearTimeout, window.setInterval, window.clearInterval];
  window.setTimeout = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
    const id = st(() => { live.timers.delete(id); fn(); }, ms, ...rest);
    live.timers.add(id);
    return id;
  }) as typeof setTimeout;
  window.clearTimeout = ((id?: number) => { live.timers.delete(id); ct(id); }) as typeof clearTimeout;
  window.setInterval = ((fn: () => void, ms?: number, ...rest: unknown[]) => {
    const id = si(fn, ms, ...rest);
    live.timers.add(id);
    return id;
  }) as typeof setInterval;
  window.clearInterval = ((id?: number) => { live.timers.delete(id); ci(id); }) as typeof clearInterval;
}
function counts() {
  const gc = (window as unknown as { gc?: () => void }).gc;
  gc?.();
  const heap = (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? 0;
  return { peerConnections: live.pcs.size, liveTracks: live.tracks.size, pendingTimers: live.timers.size, heapMB: Math.round(heap / 1e5) / 10 };
}


/** callUser → established (callee answers at once), n calls; the median of each event on the way. */
async function ours(n: number): Promise<object> {
  return withClients(async () => {
    const [a, b] = await Promise.all([client('a'), client('b')]);
    b.addEventListener('incomingcall', (e) => e.call.answer());
    const times: number[] = [];
    const phases: Record<string, number[]> = {};
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const call = a.callUser(b.userId);
      for (const ev of ['progressing', 'ringing', 'answered', 'remotestream', 'established']) {
        call.addEventListener(ev, () => { (phases[ev] ??= []).push(performance.now() - t0); });
      }
      await reach(call, 'established', SETUP_MS, `call ${i + 1}: `);
      times.push(performance.now() - t0);
      call.hangup();
      await reach(call, 'ended', END_MS, `call ${i + 1} hang-up: `);
      await sleep(50);
    }
    return {
      medianMs: round(median(times)),
      phasesMedianMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v))])),
    };
  });
}

/** What a raw PeerJS media connection's PeerConnection was doing (for a setup that did not finish). */
function pcState(mc: MediaConnection): string {
  const pc = mc.peerConnection as RTCPeerConnection | undefined;
  return pc ? `signalling ${pc.signalingState}, ICE ${pc.iceConnectionState}, connection ${pc.connectionState}` : 'no PeerConnection yet';
}

/** The same flow with raw PeerJS: getUserMedia, call(), callee getUserMedia + answer(), caller's remote stream. */
async function raw(n: number, withData = false): Promise<object> {
  const opts = { host: cfg.host, port: cfg.port, path: '/peerjs', secure: false, key: 'peerjs', debug: 0, config: { iceServers: [] } };
  const mic = () => within(navigator.mediaDevices.getUserMedia({ audio: true }), SETUP_MS, 'getUserMedia');
  const peers: Peer[] = [];
  try {
    const [ida, idb] = [uid('rawa'), uid('rawb')];
    const [tokenA, tokenB] = await Promise.all([devToken(ida), devToken(idb)]);
    // No await between a peer's construction and the wait for its `open`: it could come first and never again (a
    // token fetched between the two constructions once left the bench waiting for `a`'s open for good).
    const a = new Peer(ida, { ...opts, token: tokenA });
    const b = new Peer(idb, { ...opts, token: tokenB });
    peers.push(a, b);
    await Promise.all([onceEmitted(a, 'open', SETUP_MS), onceEmitted(b, 'open', SETUP_MS)]);
    b.on('call', (mc: MediaConnection) => {
      void mic().then((s) => {
        mc.answer(s);
        mc.on('close', () => s.getTracks().forEach((t) => t.stop()));
      }, () => mc.close());
    });
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const s = await mic();
      try {
        const dc = withData ? a.connect(b.id, { serialization: 'raw' }) : undefined;
        const mc = a.call(b.id, s);
        try {
          await onceEmitted(mc, 'stream', SETUP_MS);
        } catch (err) {
          throw new Error(`call ${i + 1}: ${message(err)} (${pcState(mc)})`);
        }
        times.push(performance.now() - t0);
        mc.close();
        dc?.close();
      } finally {
        s.getTracks().forEach((t) => t.stop());
      }
      await sleep(50);
    }
    return { medianMs: round(median(times)) };
  } finally {
    for (const p of peers) p.destroy();
  }
}

async function unavailable(n: number): Promise<object> {
  return withClients(async () => {
    const a = await client('u');
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const call = a.callUser(uid('nobody'));
      await reach(call, 'ended', SETUP_MS, `call ${i + 1}: `);
      if (call.details.endCause !== 'unavailable') throw new Error(`call ${i + 1}: expected unavailable, got ${call.details.endCause}`);
      times.push(performance.now() - t0);
    }
    return { calls: n, medianMs: round(median(times)), maxMs: round(Math.max(...times)), goalMs: 1000 };
  });
}

/** More calls than this missing `ended` (5 s each) stop the cycles: the figure is already clear, the wait is not. */
const MAX_MISSING = 20;

/** n call cycles with random hang-up side and timing; counts calls where a side never saw `ended`. */
async function cycles(n: number): Promise<object> {
  return withClients(async () => {
    const [a, b] = await Promise.all([client('ca'), client('cb')]);
    await sleep(500);
    const before = counts();
    let incoming: Call | undefined;
    b.addEventListener('incomingcall', (e) => {
      incoming = e.call;
      const delay = Math.random() * 150;
      const declines = Math.random() < 0.15;
      setTimeout(() => {
        if (e.call.state !== 'ringing') return;
        if (declines) e.call.hangup();
        else e.call.answer();
      }, delay);
    });
    let missing = 0;
    const delays: number[] = [];
    const causes: Record<string, number> = {};
    const ended = (call: Call) => reach(call, 'ended', END_MS).then(() => true, () => false);
    for (let i = 0; i < n; i++) {
      if (missing > MAX_MISSING) throw new Error(`${missing} calls missing "ended" after ${i} of ${n} cycles`);
      incoming = undefined;
      const out = a.callUser(b.userId);
      await sleep(Math.random() * 400);
      const bSide = incoming as Call | undefined;
      const callerHangs = Math.random() < 0.5 || !bSide;
      const hanger = callerHangs ? out : bSide!;
      const other = callerHangs ? bSide : out;
      const t0 = performance.now();
      const otherEnded = other && other.state !== 'ended' ? ended(other).then((ok) => (ok ? performance.now() - t0 : undefined)) : undefined;
      hanger.hangup();
      if (otherEnded) {
        const ms = await otherEnded;
        if (ms === undefined) missing++;
        else delays.push(ms);
      }
      // Both sides must end; a callee that never saw the invite has nothing to end.
      if (out.state !== 'ended') missing++;
      const seen = incoming as Call | undefined;
      if (seen && seen !== other && !(await ended(seen))) missing++;
      causes[out.details.endCause ?? 'none'] = (causes[out.details.endCause ?? 'none'] ?? 0) + 1;
      await sleep(20);
    }
    // Let deferred closes (300 ms flush, 1 s grace timers) run out before counting what is left.
    await sleep(2500);
    const after = counts();
    return {
      cycles: n,
      missingEnded: missing,
      hangupToRemoteEndedP50Ms: round(median(delays)),
      hangupToRemoteEndedP95Ms: round(pct(delays, 0.95)),
      callerEndCauses: causes,
      stuckCalls: a.activeCalls.length + b.activeCalls.length,
      resourcesBefore: before,
      resourcesAfter: after,
    };
  });
}

/** Signalling server restarted under an established call: time until both clients are registered again. */
async function signallingRecovery(runs: number): Promise<object> {
  let callsSurvived = 0;
  const { values: times, errors } = await eachRun(runs, () => withClients(async () => {
    const [a, b] = await Promise.all([client('ra'), client('rb')]);
    b.addEventListener('incomingcall', (e) => e.call.answer());
    const call = a.callUser(b.userId);
    await reach(call, 'established', SETUP_MS);
    await hook('restartServer', (h) => h.restartServer(300));
    const t0 = performance.now();
    while (!(a.connectionState === 'connected' && b.connectionState === 'connected')) {
      if (performance.now() - t0 > 30_000) throw new Error(`clients did not reconnect within 30 s (${a.connectionState}, ${b.connectionState})`);
      await sleep(10);
    }
    const ms = performance.now() - t0;
    if (call.state === 'established') callsSurvived++;
    call.hangup();
    return ms;
  }));
  return {
    runs, completed: times.length,
    reconnectedMedianMs: round(median(times)), reconnectedMaxMs: round(Math.max(...times)), goalMs: 5000, callsSurvived,
    ...(errors.length ? { errors } : {}),
  };
}

/**
 * Two clients whose media is relayed through the bench's TURN server, in a call established on both sides: the
 * caller can be established while the callee's ICE is still checking, and a relay cut then leaves the callee
 * `answered` until it gives up (`media-timeout`), which ends the call for both (it once failed a third of the ICE
 * restart runs).
 */
async function relayedCall(turn: RTCIceServer): Promise<Call> {
  const opts = { iceServers: [turn], iceTransportPolicy: 'relay' as const, disconnectGrace: 30_000 };
  const [a, b] = await Promise.all([client('ma', opts), client('mb', opts)]);
  const incoming = new Promise<Call>((resolve) => b.addEventListener('incomingcall', (e) => { e.call.answer(); resolve(e.call); }, { once: true }));
  const call = a.callUser(b.userId);
  await reach(call, 'established', SETUP_MS, 'caller: ');
  await reach(await within(incoming, SETUP_MS, 'incomingcall'), 'established', SETUP_MS, 'callee: ');
  return call;
}

/** The moment `call` next becomes `established` (recorded by a listener added now, before whatever brings it back). */
function establishedAt(call: Call): () => number {
  let at = NaN;
  const seen = () => {
    if (call.state !== 'established') return;
    at = performance.now();
    call.removeEventListener('statechange', seen);
  };
  call.addEventListener('statechange', seen);
  return () => at;
}

/**
 * Media relayed through a TURN server that is frozen until the call notices (`reconnecting`), then thawed: time from
 * the thaw to `established` again.
 */
async function mediaRecovery(runs: number): Promise<object> {
  const turn = await hook('turn', (h) => h.turn('start'));
  if (!turn) return { skipped: 'turnserver (Debian package coturn) is not installed' };
  const { values: times, errors } = await eachRun(runs, () => withClients(async () => {
    const call = await relayedCall(turn);
    const reconnecting = reach(call, 'reconnecting', 20_000);
    await hook('turn', (h) => h.turn('pause'));
    let notNoticed: unknown;
    await reconnecting.catch((err: unknown) => { notNoticed = err; });
    const back = establishedAt(call);
    const t0 = performance.now();
    await hook('turn', (h) => h.turn('resume')); // always: the next run needs the relay
    if (notNoticed) throw notNoticed;
    // The call may be back before the hook's answer reaches the page: its time was recorded by `back`.
    await reach(call, 'established', 20_000);
    const ms = back() - t0;
    call.hangup();
    return ms;
  }));
  await hook('turn', (h) => h.turn('stop'));
  return { runs, completed: times.length, reestablishedMedianMs: round(median(times)), reestablishedMaxMs: round(Math.max(...times)), ...(errors.length ? { errors } : {}) };
}

/**
 * The TURN server restarted under a call (its allocations lost: the old path never comes back by itself), so only an
 * ICE restart recovers: time from the relay's restart until the call is `reconnecting` (the browser noticing) and
 * `established` again, and from `reconnecting` to `established` (the restart's own cost: 1.5 s grace + renegotiation).
 */
async function iceRestartRecovery(runs: number): Promise<object> {
  const turn = await hook('turn', (h) => h.turn('start'));
  if (!turn) return { skipped: 'turnserver (Debian package coturn) is not installed' };
  const { values, errors } = await eachRun(runs, () => withClients(async () => {
    const call = await relayedCall(turn);
    const reconnecting = reach(call, 'reconnecting', 30_000);
    const t0 = performance.now();
    await hook('turn', (h) => h.turn('restart'));
    await reconnecting;
    const t1 = performance.now();
    await reach(call, 'established', 30_000);
    const t2 = performance.now();
    const stats = await within(call.getStats(), 5000, 'getStats');
    call.hangup();
    return { noticed: t1 - t0, back: t2 - t0, recovery: t2 - t1, restarts: stats?.iceRestarts ?? NaN };
  }));
  await hook('turn', (h) => h.turn('stop'));
  const recovery = values.map((v) => v.recovery);
  return {
    runs,
    completed: values.length,
    reconnectingAfterRelayRestartMedianMs: round(median(values.map((v) => v.noticed))),
    establishedAfterRelayRestartMedianMs: round(median(values.map((v) => v.back))),
    recoveryAfterReconnectingMedianMs: round(median(recovery)),
    recoveryAfterReconnectingMaxMs: round(Math.max(...recovery)),
    iceRestartsPerRecovery: values.map((v) => v.restarts),
    ...(errors.length ? { errors } : {}),
  };
}

/** The phases bench/run.ts runs, each in a fresh page, in this order. */
const PHASES = {
  rawPeerJs: (o: PhaseOptions) => raw(o.calls),
  rawPeerJsWithDataConnection: (o: PhaseOptions) => raw(o.calls, true),
  ours: (o: PhaseOptions) => ours(o.calls),
  unreachable: () => unavailable(5),
  hangupCycles: (o: PhaseOptions) => cycles(o.cycles),
  soak: (o: PhaseOptions) => cycles(o.soak),
  signallingRestart: () => signallingRecovery(3),
  networkRestore: () => mediaRecovery(2),
  iceRestart: () => iceRestartRecovery(3),
};
export type CallPhase = keyof typeof PHASES;
export interface PhaseOptions { calls: number; cycles: number; soak: number }

(window as unknown as { bench: object }).bench = {
  phase: (name: CallPhase, options: PhaseOptions) => PHASES[name](options),
};
