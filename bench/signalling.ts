// Signalling capacity: how many registered peers the calling server holds (and its RSS), and how many invites per
// second it relays and records. The server runs in this process (real auth, real SQLite file); the load generator is a
// separate Node process on 127.0.0.1 speaking the PeerJS wire protocol. Prints JSON.
//
//   node --import tsx bench/signalling.ts          BENCH_PEERS (10000), BENCH_PAIRS (200), BENCH_INVITE_SECONDS (5)
import { fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { CallingStore } from '../src/server/storage/store.js';
import { within } from './deadline.js';

interface LoadConfig { port: number; secret: string; peers: number; pairs: number; inviteSeconds: number }
type ToChild = { cmd: 'invites' } | { cmd: 'exit' };
type FromChild =
  | { event: 'connected'; held: number; failed: number; seconds: number; errors: Record<string, number> }
  | { event: 'invites'; invites: number; seconds: number; latencyP50Ms: number; latencyP95Ms: number; latencyMaxMs: number; timeouts: number; dropped: number };

const MAX_INVITES = 2_000_000; // hard bound on the invite loop, whatever the duration

/** Runs the benchmark and returns its results (also what the script prints). */
export async function runSignallingBench(options: Partial<Omit<LoadConfig, 'port' | 'secret'>> = {}): Promise<object> {
  const { startCallingServer } = await import('../src/server/calling-server.js');
  const config = {
    peers: options.peers ?? Number(process.env.BENCH_PEERS ?? 10_000),
    pairs: options.pairs ?? Number(process.env.BENCH_PAIRS ?? 200),
    inviteSeconds: options.inviteSeconds ?? Number(process.env.BENCH_INVITE_SECONDS ?? 5),
  };
  const dir = mkdtempSync(join(tmpdir(), 'calling-bench-'));
  const secret = randomBytes(32).toString('base64url');
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, secret, dbPath: join(dir, 'bench.db') });
  const rss = (): number => Math.round(process.memoryUsage().rss / 1024 / 1024);
  const baselineRssMB = rss();
  let peakRssMB = baselineRssMB;
  const sampler = setInterval(() => { peakRssMB = Math.max(peakRssMB, rss()); }, 200);

  const child = fork(fileURLToPath(import.meta.url), ['--load'], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, BENCH_LOAD: JSON.stringify({ port: server.port, secret, ...config } satisfies LoadConfig) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = (ms: number, what: string): Promise<FromChild> => within(new Promise((resolve, reject) => {
    const onExit = (code: number | null): void => reject(new Error(`load generator exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m) => { child.off('exit', onExit); resolve(m as FromChild); });
  }), ms, what);
  try {
    const connected = await next(120_000 + config.peers * 20, 'peers connected');
    if (connected.event !== 'connected') throw new Error('unexpected message');
    await new Promise((r) => setTimeout(r, 2000)); // let the heap settle with every peer registered
    const heldRssMB = rss();
    const heldOnServer = server.recorder.online.size;
    const recordsBefore = ((server.store as CallingStore).db.prepare('SELECT count(*) AS n FROM calls').get() as { n: number }).n;
    child.send({ cmd: 'invites' } satisfies ToChild);
    const invites = await next(60_000 + config.inviteSeconds * 1000, 'invites relayed');
    if (invites.event !== 'invites') throw new Error('unexpected message');
    const recordsAfter = (server.store as CallingStore).db.prepare('SELECT count(*) AS n, count(ended_at) AS ended FROM calls').get() as { n: number; ended: number };
    child.send({ cmd: 'exit' } satisfies ToChild);
    return {
      machine: { cpus: cpus().length, node: process.version },
      peers: {
        target: config.peers,
        registered: heldOnServer,
        refusedOrFailed: connected.failed,
        connectSeconds: connected.seconds,
        connectsPerSecond: Math.round(connected.held / connected.seconds),
        errors: connected.errors,
        serverRssMB: { baseline: baselineRssMB, withPeers: heldRssMB, peak: peakRssMB },
        rssPerPeerKB: heldOnServer ? Math.round(((heldRssMB - baselineRssMB) * 1024) / heldOnServer * 10) / 10 : null,
        goal: { peers: 10_000, maxRssMB: 300, met: heldOnServer >= 10_000 && heldRssMB <= 300 },
      },
      invites: {
        pairs: config.pairs,
        seconds: invites.seconds,
        relayed: invites.invites,
        invitesPerSecond: Math.round(invites.invites / invites.seconds),
        note: 'each invite: caller OFFER (invite metadata) → callee, callee ANSWER → caller, caller CALL-END; the server records start and end in SQLite',
        offerToCalleeMs: { p50: invites.latencyP50Ms, p95: invites.latencyP95Ms, max: invites.latencyMaxMs },
        timeouts: invites.timeouts,
        peersDroppedDuringRun: invites.dropped,
        stillRegisteredAtEnd: server.recorder.online.size,
        recordsWritten: recordsAfter.n - recordsBefore,
        recordsEnded: recordsAfter.ended,
      },
    };
  } finally {
    clearInterval(sampler);
    if (child.exitCode === null) child.kill();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

// --- the load generator (child process) ---------------------------------------------------------------------------

async function loadGenerator(config: LoadConfig): Promise<void> {
  const { mintUserToken } = await import('../src/server/auth/tokens.js');
  const sockets: WebSocket[] = new Array(config.peers);
  const ids = Array.from({ length: config.peers }, (_, i) => `bench-${i}`);
  const errors: Record<string, number> = {};
  let failed = 0;
  let dropped = 0;
  // PeerServer drops clients silent for alive_timeout: heartbeat like PeerJS does (every 5 s), from the first socket on.
  const heartbeat = setInterval(() => {
    for (const ws of sockets) if (ws?.readyState === WebSocket.OPEN) ws.send('{"type":"HEARTBEAT"}');
  }, 5000);
  const t0 = performance.now();
  const CONCURRENCY = 256;
  let nextIndex = 0;
  const connectOne = async (i: number): Promise<void> => {
    const { token } = await mintUserToken(config.secret, ids[i]!, 3600);
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${config.port}/peerjs/peerjs?key=peerjs&id=${ids[i]}&token=${token}&version=1.5.5`);
      // A socket that neither opens nor fails counts as failed after 10 s.
      let settled = false;
      const timer = setTimeout(() => { fail('timeout'); ws.terminate(); }, 10_000);
      const fail = (why: string): void => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        failed++;
        errors[why] = (errors[why] ?? 0) + 1;
        resolve();
      };
      ws.once('message', (d) => {
        const type = (JSON.parse(d.toString()) as { type: string }).type;
        if (type !== 'OPEN') {
          fail(type);
          ws.close();
        } else if (!settled) {
          clearTimeout(timer);
          settled = true;
          sockets[i] = ws;
          resolve();
        }
      });
      ws.once('close', () => {
        if (sockets[i] === ws) { dropped++; delete sockets[i]; }
      });
      ws.once('error', (e) => fail((e as NodeJS.ErrnoException).code ?? 'error'));
    });
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    for (let i = nextIndex++; i < config.peers; i = nextIndex++) await connectOne(i);
  }));
  const seconds = (performance.now() - t0) / 1000;
  const held = sockets.filter(Boolean).length;
  process.send!({ event: 'connected', held, failed, seconds: round(seconds), errors } satisfies FromChild);

  await new Promise<void>((resolve) => process.once('message', (m) => { if ((m as ToChild).cmd === 'invites') resolve(); }));
  const live = sockets.map((ws, i) => ({ ws, id: ids[i]! })).filter((p) => p.ws);
  const pairs = Math.min(config.pairs, Math.floor(live.length / 2));
  const latencies: number[] = [];
  let invites = 0;
  let timeouts = 0;
  const deadline = performance.now() + config.inviteSeconds * 1000;
  const start = performance.now();
  await Promise.all(Array.from({ length: pairs }, async (_, p) => {
    const caller = live[p]!;
    const callee = live[live.length - 1 - p]!;
    let n = 0;
    while (performance.now() < deadline && invites < MAX_INVITES) {
      const callId = `b${p}-${n++}`;
      const connectionId = `dc_${callId}`;
      const sentAt = performance.now();
      const ok = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => { cleanup(); resolve(false); }, 5000);
        const onCallee = (d: WebSocket.RawData): void => {
          const m = JSON.parse(d.toString()) as { type: string; src: string; payload?: { connectionId?: string } };
          if (m.type !== 'OFFER' || m.payload?.connectionId !== connectionId) return;
          latencies.push(performance.now() - sentAt);
          callee.ws.send(JSON.stringify({ type: 'ANSWER', dst: caller.id, payload: { type: 'data', connectionId, sdp: { type: 'answer', sdp: '' } } }));
        };
        const onCaller = (d: WebSocket.RawData): void => {
          const m = JSON.parse(d.toString()) as { type: string; payload?: { connectionId?: string } };
          if (m.type !== 'ANSWER' || m.payload?.connectionId !== connectionId) return;
          caller.ws.send(JSON.stringify({ type: 'CALL-END', payload: { callId, cause: 'canceled' } }));
          cleanup();
          resolve(true);
        };
        const cleanup = (): void => { clearTimeout(timer); callee.ws.off('message', onCallee); caller.ws.off('message', onCaller); };
        callee.ws.on('message', onCallee);
        caller.ws.on('message', onCaller);
        caller.ws.send(JSON.stringify({
          type: 'OFFER', dst: callee.id,
          payload: {
            type: 'data', connectionId, sdp: { type: 'offer', sdp: '' }, label: connectionId, reliable: true, serialization: 'json',
            metadata: { v: 1, type: 'invite', callId, from: caller.id, to: callee.id, callType: 'user', video: false, headers: {} },
          },
        }));
      });
      if (ok) invites++;
      else { timeouts++; break; }
    }
  }));
  const inviteSeconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (q: number): number => round(latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))] ?? NaN);
  process.send!({
    event: 'invites', invites, seconds: round(inviteSeconds), timeouts, dropped,
    latencyP50Ms: pct(0.5), latencyP95Ms: pct(0.95), latencyMaxMs: pct(1),
  } satisfies FromChild);
  await new Promise<void>((resolve) => process.once('message', () => resolve()));
  clearInterval(heartbeat);
  for (const ws of sockets) ws?.terminate();
  process.exit(0);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

if (process.argv.includes('--load')) {
  await loadGenerator(JSON.parse(process.env.BENCH_LOAD ?? '{}') as LoadConfig);
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await runSignallingBench(), null, 2));
  process.exit(0);
}
