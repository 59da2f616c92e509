// Runs inside Chromium (bundled by bench/run.ts): our CallClient next to raw PeerJS, in the same page.
import { Peer, type MediaConnection } from 'peerjs';
import { CallClient, type Call } from '../src/core/index.js';

const cfg = (window as unknown as { BENCH: { server: string; host: string; port: number } }).BENCH;
let seq = 0;
const uid = (p: string) => `${p}-${Date.now().toString(36)}-${seq++}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor(s.length * p))] : NaN; };
const round = (x: number) => Math.round(x * 10) / 10;

// A fresh token per connect from the bench server (same origin).
const devToken = async (userId: string): Promise<string> =>
  ((await (await fetch(`/bench/token?userId=${encodeURIComponent(userId)}`)).json()) as { token: string }).token;

async function client(name: string): Promise<CallClient> {
  const userId = uid(name);
  const c = new CallClient({ userId, server: cfg.server, token: () => devToken(userId) });
  c.setSupportCalling(true);
  await c.start();
  return c;
}
function once(target: EventTarget, type: string, ms = 15_000): Promise<Event> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ${type}`)), ms);
    target.addEventListener(type, (e) => { clearTimeout(t); resolve(e); }, { once: true });
  });
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

const phases: Record<string, number[]> = {};
/** callUser → established (callee answers at once), n calls. */
async function ours(n: number): Promise<number[]> {
  const [a, b] = await Promise.all([client('a'), client('b')]);
  b.addEventListener('incomingcall', (e) => e.call.answer());
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const call = a.callUser(b.userId);
    for (const ev of ['progressing', 'ringing', 'answered', 'remotestream', 'established']) {
      call.addEventListener(ev, () => { (phases[ev] ??= []).push(performance.now() - t0); });
    }
    await once(call, 'established');
    times.push(performance.now() - t0);
    const ended = once(call, 'ended');
    call.hangup();
    await ended;
    await sleep(50);
  }
  await Promise.all([a.stop(), b.stop()]);
  return times;
}

/** The same flow with raw PeerJS: getUserMedia, call(), callee getUserMedia + answer(), caller's remote stream. */
async function raw(n: number, withData = false): Promise<number[]> {
  const opts = { host: cfg.host, port: cfg.port, path: '/peerjs', secure: false, key: 'peerjs', debug: 0, config: { iceServers: [] } };
  const open = (p: Peer) => new Promise<void>((r, j) => { p.once('open', () => r()); p.once('error', j); });
  const [ida, idb] = [uid('rawa'), uid('rawb')];
  const a = new Peer(ida, { ...opts, token: await devToken(ida) });
  const b = new Peer(idb, { ...opts, token: await devToken(idb) });
  await Promise.all([open(a), open(b)]);
  b.on('call', async (mc: MediaConnection) => {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true });
    mc.answer(s);
    mc.on('close', () => s.getTracks().forEach((t) => t.stop()));
  });
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const s = await navigator.mediaDevices.getUserMedia({ audio: true });
    const dc = withData ? a.connect(b.id, { serialization: 'raw' }) : undefined;
    const mc = a.call(b.id, s);
    await new Promise<void>((r) => mc.once('stream', () => r()));
    times.push(performance.now() - t0);
    mc.close();
    dc?.close();
    s.getTracks().forEach((t) => t.stop());
    await sleep(50);
  }
  a.destroy();
  b.destroy();
  return times;
}

async function unavailable(n: number): Promise<number[]> {
  const a = await client('u');
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const call = a.callUser(uid('nobody'));
    await once(call, 'ended');
    if (call.details.endCause !== 'unavailable') throw new Error(`expected unavailable, got ${call.details.endCause}`);
    times.push(performance.now() - t0);
  }
  await a.stop();
  return times;
}

/** n call cycles with random hang-up side and timing; counts calls where a side never saw `ended`. */
async function cycles(n: number): Promise<object> {
  const [a, b] = await Promise.all([client('ca'), client('cb')]);
  await sleep(500);
  const before = counts();
  let after = before;
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
  for (let i = 0; i < n; i++) {
    incoming = undefined;
    const out = a.callUser(b.userId);
    await sleep(Math.random() * 400);
    const bSide = incoming as Call | undefined;
    const callerHangs = Math.random() < 0.5 || !bSide;
    const hanger = callerHangs ? out : bSide!;
    const other = callerHangs ? bSide : out;
    const t0 = performance.now();
    const otherEnded = other && other.state !== 'ended' ? once(other, 'ended', 5000).then(() => performance.now() - t0) : undefined;
    hanger.hangup();
    if (otherEnded) {
      try { delays.push(await otherEnded); } catch { missing++; }
    }
    // Both sides must end; a callee that never saw the invite has nothing to end.
    if (out.state !== 'ended') missing++;
    const seen = incoming as Call | undefined;
    if (seen && seen.state !== 'ended') {
      try { await once(seen, 'ended', 5000); } catch { missing++; }
    }
    causes[out.details.endCause ?? 'none'] = (causes[out.details.endCause ?? 'none'] ?? 0) + 1;
    await sleep(20);
  }
  // Let deferred closes (300 ms flush, 1 s grace timers) run out before counting what is left.
  await sleep(2500);
  after = counts();
  await Promise.all([a.stop(), b.stop()]);
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
}

interface BenchHooks { restartServer(downMs: number): Promise<void>; turn(action: string): Promise<RTCIceServer | null> }
const hooks = window as unknown as BenchHooks;

/** Signalling server restarted under an established call: time until both clients are registered again. */
async function signallingRecovery(runs: number): Promise<object> {
  const times: number[] = [];
  let callsSurvived = 0;
  for (let i = 0; i < runs; i++) {
    const [a, b] = await Promise.all([client('ra'), client('rb')]);
    b.addEventListener('incomingcall', (e) => e.call.answer());
    const call = a.callUser(b.userId);
    await once(call, 'established');
    await hooks.restartServer(300);
    const t0 = performance.now();
    while (!(a.connectionState === 'connected' && b.connectionState === 'connected')) {
      if (performance.now() - t0 > 30_000) throw new Error('clients did not reconnect');
      await sleep(10);
    }
    times.push(performance.now() - t0);
    if (call.state === 'established') callsSurvived++;
    call.hangup();
    await Promise.all([a.stop(), b.stop()]);
  }
  return { runs, reconnectedMedianMs: round(median(times)), reconnectedMaxMs: round(Math.max(...times)), goalMs: 5000, callsSurvived };
}

/** Two clients whose media is relayed through the bench's TURN server, in an established call. */
async function relayedCall(turn: RTCIceServer): Promise<{ a: CallClient; b: CallClient; call: Call }> {
  const opts = { iceServers: [turn], iceTransportPolicy: 'relay' as const, disconnectGrace: 30_000 };
  const mk = async (n: string) => {
    const userId = uid(n);
    const c = new CallClient({ userId, server: cfg.server, token: () => devToken(userId), ...opts });
    c.setSupportCalling(true);
    await c.start();
    return c;
  };
  const [a, b] = await Promise.all([mk('ma'), mk('mb')]);
  b.addEventListener('incomingcall', (e) => e.call.answer());
  const call = a.callUser(b.userId);
  await once(call, 'established');
  return { a, b, call };
}

/** Media relayed through a TURN server that is frozen for 6 s: time from thaw to `established` again. */
async function mediaRecovery(runs: number): Promise<object> {
  const turn = await hooks.turn('start');
  if (!turn) return { skipped: 'turnserver (Debian package coturn) is not installed' };
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { a, b, call } = await relayedCall(turn);
    await hooks.turn('pause');
    await once(call, 'reconnecting', 20_000);
    await hooks.turn('resume');
    const t0 = performance.now();
    await once(call, 'established', 20_000);
    times.push(performance.now() - t0);
    call.hangup();
    await Promise.all([a.stop(), b.stop()]);
  }
  await hooks.turn('stop');
  return { runs, reestablishedMedianMs: round(median(times)), reestablishedMaxMs: round(Math.max(...times)) };
}

/**
 * The TURN server restarted under a call (its allocations lost: the old path never comes back by itself), so only an
 * ICE restart recovers: time from the relay's restart until the call is `reconnecting` (the browser noticing) and
 * `established` again, and from `reconnecting` to `established` (the restart's own cost: 1.5 s grace + renegotiation).
 */
async function iceRestartRecovery(runs: number): Promise<object> {
  const turn = await hooks.turn('start');
  if (!turn) return { skipped: 'turnserver (Debian package coturn) is not installed' };
  const noticed: number[] = [];
  const back: number[] = [];
  const recovery: number[] = [];
  const restarts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const { a, b, call } = await relayedCall(turn);
    const reconnecting = once(call, 'reconnecting', 30_000);
    await hooks.turn('restart');
    const t0 = performance.now();
    await reconnecting;
    const t1 = performance.now();
    await once(call, 'established', 30_000);
    const t2 = performance.now();
    noticed.push(t1 - t0);
    back.push(t2 - t0);
    recovery.push(t2 - t1);
    restarts.push((await call.getStats())?.iceRestarts ?? NaN);
    call.hangup();
    await Promise.all([a.stop(), b.stop()]);
  }
  await hooks.turn('stop');
  return {
    runs,
    reconnectingAfterRelayRestartMedianMs: round(median(noticed)),
    establishedAfterRelayRestartMedianMs: round(median(back)),
    recoveryAfterReconnectingMedianMs: round(median(recovery)),
    recoveryAfterReconnectingMaxMs: round(Math.max(...recovery)),
    iceRestartsPerRecovery: restarts,
  };
}

(window as unknown as { bench: object }).bench = {
  async run(opts: { calls: number; cycles: number; soak: number }) {
    const raws = await raw(opts.calls);
    const rawWithData = await raw(opts.calls, true);
    const oursT = await ours(opts.calls);
    const unav = await unavailable(5);
    const cyc = await cycles(opts.cycles);
    const soak = opts.soak > 0 ? await cycles(opts.soak) : undefined;
    console.log('recovery: signalling');
    const signallingRestart = await signallingRecovery(3);
    console.log('recovery: media');
    const networkRestore = await mediaRecovery(2);
    console.log('recovery: ICE restart');
    const recovery = { signallingRestart, networkRestore, iceRestart: await iceRestartRecovery(3) };
    return {
      callSetup: {
        calls: opts.calls,
        oursMedianMs: round(median(oursT)),
        rawPeerJsMedianMs: round(median(raws)),
        rawPeerJsWithDataConnectionMedianMs: round(median(rawWithData)),
        ratio: Math.round((median(oursT) / median(raws)) * 100) / 100,
        // PeerJS opens one PeerConnection per connection: our call-control DataConnection costs a second one.
        ratioToSameWork: Math.round((median(oursT) / median(rawWithData)) * 100) / 100,
        oursPhasesMedianMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(median(v))])),
        goalRatio: 1.25,
      },
      unreachable: { calls: unav.length, medianMs: round(median(unav)), maxMs: round(Math.max(...unav)), goalMs: 1000 },
      hangupCycles: cyc,
      ...(soak ? { soak } : {}),
      recovery,
    };
  },
};
