// Gateway benchmark: N concurrent bridged calls (WebRTC ↔ G.711 RTP) on this machine, all on 127.0.0.1.
//
//   node --import tsx bench/gateway.ts            (prints JSON; BENCH_GATEWAY_CALLS=50 by default)
//
// Layout: this process runs the calling server (signalling); the gateway runs as its own child process, as
// `npm start` runs it (launcher.ts), so its CPU is measured apart; a third process (this file with --callers) plays
// N "browsers" (Node WebRTC peers, each sending a 440 Hz tone); one sipp answers every call with RTP echo. Gateway
// and callers start without CAP_SYS_NICE when run as root (see launcher.ts withoutRealtimeThreads). Figures:
// - cpuPerCallPct: gateway process CPU (% of one core) per bridged call, idle baseline subtracted; per-thread
//   figures of the gateway; the callers', the server's, sipp's and the rest of the machine's CPU in the same window;
// - audio gaps: 10 ms frames of silence in each caller's echoed tone after warm-up, plus the gateway's jitter
//   buffer counters (lost / underruns / dropped) and pacer ticks skipped;
// - addedOneWayMs: one-way latency through the gateway: half the round trip of a click through caller → gateway →
//   sipp echo → gateway → caller, minus half the round trip of a direct WebRTC echo between two Node peers in the
//   same run (sipp cannot echo WebRTC);
// - postDialDelayMs: INVITE → 180 as the gateway sees it, vs a direct SIP UA → the same sipp in the same run; and
//   udpDirect vs tcpDirect: the gateway's SIP UA to a sipp over UDP and to a sipp -t t1 over TCP;
// - srvFailoverMs: INVITE → 180 through RFC 3263 (a dnsmasq on 127.0.0.1) when the first SRV target is dead
//   (FAILOVER_TIMEOUT) or answers 503, and the lookup itself.
// Env: BENCH_GATEWAY_CALLS (50), GATEWAY_BROWSER_CODEC (pcmu | opus), GATEWAY_HELPER_THREADS=keep (leave WebRTC's
// real-time threads, as before), BENCH_DEBUG=1 (gateway log).
import { runStartupFigures } from './gateway-startup.js';
import { phase, within } from './deadline.js';
import { fork, spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startCallingServer } from '../src/server/calling-server.js';
import { GATEWAY_PEER_ID } from '../src/core/protocol.js';
import type { GatewayStats } from '../src/server/gateway/gateway.js';
import { startGatewayProcess } from '../src/server/gateway/launcher.js';
import { restoreMainThread, schedulingPrefix } from '../src/server/node-peer/threads.js';
import { rms, toneShare } from '../src/server/gateway/media/dsp.js';
import { buildSdp } from '../src/server/gateway/media/sdp.js';
import { SipStack, type Endpoint } from '../src/server/gateway/sip/stack.js';
import { SipUA } from '../src/server/gateway/sip/ua.js';
import { SipLocator } from '../src/server/gateway/sip/locate.js';
import { NodePeer, type PeerSession } from '../src/server/node-peer/index.js';

const SELF = fileURLToPath(import.meta.url);
const FIXTURE = fileURLToPath(new URL('../test/fixtures/sip/answer.xml', import.meta.url));
const loopbackOnly = (a: string) => a === '127.0.0.1';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.floor(s.length / 2)] * 10) / 10 : null;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(s.length * 0.95))] * 10) / 10 : null;
};

interface CallerReport {
  established: number; failed: number; gapFrames: number; frames: number; clickRttMs: number[]; directClickRttMs: number[];
  /** The callers' own process CPU (% of one core) over the measuring window, and the sink rates they saw. */
  cpuPct: number; rates: number[];
}

// ---- CPU accounting from /proc (Linux): per process, per thread (grouped by name), and the whole machine ----
const TICK_MS = 10; // CLK_TCK 100
function procTicks(path: string): number {
  try {
    const stat = readFileSync(path, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]); // utime + stime
  } catch {
    return 0;
  }
}
/** CPU ms per thread name (digits folded: "worker_thread 3" → "worker_thread #") of a process. */
function threadCpuMs(pid: number | 'self'): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try { tids = readdirSync(`/proc/${pid}/task`); } catch { return out; }
  for (const tid of tids) {
    let name = '?';
    try { name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim().replace(/\d+/g, '#'); } catch { continue; }
    if (String(pid) === tid || (pid === 'self' && Number(tid) === process.pid)) name = 'main (JS)';
    out.set(name, (out.get(name) ?? 0) + procTicks(`/proc/${pid}/task/${tid}/stat`) * TICK_MS);
  }
  return out;
}
export function processCpuMs(pid: number | 'self'): number { return procTicks(`/proc/${pid}/stat`) * TICK_MS; }
/** Busy and total jiffies of the whole machine. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - f[3] - (f[4] ?? 0), total };
}

/** The child: N callers to the gateway, a tone each; one click per call to time the echo; a direct-echo baseline. */
async function callersMain(): Promise<void> {
  const { server, count, target, tokens } = JSON.parse(process.argv[3]) as { server: string; count: number; target: string; tokens: Record<string, string[]> };
  const tokenFor = (id: string) => async () => tokens[id].shift() ?? '';
  const caller = await NodePeer.start({ id: 'bench-caller', server, token: tokenFor('bench-caller'), candidateFilter: loopbackOnly });
  restoreMainThread(); // started like the gateway (see schedulingPrefix)
  const sessions: PeerSession[] = [];
  const report: CallerReport = { established: 0, failed: 0, gapFrames: 0, frames: 0, clickRttMs: [], directClickRttMs: [], cpuPct: 0, rates: [] };
  const rates = new Set<number>();
  const measuring = { on: false };
  const clicks = new Map<PeerSession, number>();
  // The callers' own cost is not the gateway's: one second of 440 Hz at 8 kHz (a whole number of periods) played in
  // a loop, and a 10 ms 1 kHz click, computed once; wrtc takes 8 kHz frames and resamples for the codec.
  const TONE = new Int16Array(8000).map((_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / 8000)));
  const CLICK = new Int16Array(80).map((_, i) => Math.round(20000 * Math.sin((2 * Math.PI * 1000 * i) / 8000)));
  const SILENCE = new Int16Array(80);
  let phase = 0;
  const tick = setInterval(() => {
    phase = (phase + 80) % 8000;
    const tone = TONE.subarray(phase, phase + 80).slice(); // wrtc wants a frame that starts at offset 0 of its buffer
    for (const s of sessions) {
      // Click state: undefined → tone; -2 → silence (let the tone's echo drain); -1 → send a click now; > 0 → silence
      // until the click's echo is back.
      const state = clicks.get(s);
      if (state === undefined) s.sendAudio(tone, 8000);
      else if (state === -1) {
        s.sendAudio(CLICK, 8000);
        clicks.set(s, performance.now());
      } else s.sendAudio(SILENCE, 8000);
    }
  }, 10);
  for (let i = 0; i < count; i++) {
    const s = caller.call(GATEWAY_PEER_ID, { callId: `bench-${i}`, from: 'bench-caller', to: target, callType: 'sip', video: false, headers: {} });
    s.once('answer', () => { report.established++; });
    s.once('end', () => { if (!s.isMediaUp) report.failed++; });
    s.onAudio((f) => {
      // The gateway's leg may be Opus (48 kHz frames, 16 kHz at first) or G.711 (8 kHz frames): take any rate.
      if (f.samples.length !== f.sampleRate / 100) return;
      rates.add(f.sampleRate);
      const level = rms(f.samples);
      const sent = clicks.get(s);
      if (sent !== undefined && sent > 0 && level > 0.03 && toneShare(f.samples, f.sampleRate, 1000) > 0.3) {
        report.clickRttMs.push(performance.now() - sent);
        clicks.delete(s);
      }
      if (measuring.on && sent === undefined) {
        report.frames++;
        if (level < 0.005) report.gapFrames++;
      }
    });
    sessions.push(s);
    await sleep(60); // a call every 60 ms, like a busy hour's burst
  }
  await sleep(4000); // warm-up: media and jitter buffers settle
  measuring.on = true;
  process.send?.({ type: 'measuring' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(10_000);
  measuring.on = false;
  const cpu = process.cpuUsage(cpu0);
  report.cpuPct = Math.round(((cpu.user + cpu.system) / 1000 / (performance.now() - t0)) * 1000) / 10;
  report.rates = [...rates];
  // One click per call: silence first, then the click; the first loud frame back is its echo.
  for (const s of sessions) clicks.set(s, -2);
  await sleep(800);
  for (const s of sessions) clicks.set(s, -1);
  await sleep(1500);
  for (const s of sessions) s.hangup('hungUp');
  await sleep(500);
  // Baseline: the same click through a direct WebRTC echo between two Node peers (no gateway, no G.711).
  const a = await NodePeer.start({ id: 'bench-echo-a', server, token: tokenFor('bench-echo-a'), candidateFilter: loopbackOnly });
  const b = await NodePeer.start({ id: 'bench-echo-b', server, token: tokenFor('bench-echo-b'), candidateFilter: loopbackOnly });
  b.on('invite', (inc) => {
    inc.onAudio((f) => { if (f.samples.length === f.sampleRate / 100) inc.sendAudio(f.samples.slice(), f.sampleRate); });
    inc.answer();
  });
  const direct = a.call('bench-echo-b', { callId: 'bench-direct', from: 'bench-echo-a', to: 'bench-echo-b', callType: 'user', video: false, headers: {} });
  await new Promise((r) => direct.once('media', () => r(undefined)));
  sessions.length = 0;
  sessions.push(direct);
  direct.onAudio((f) => {
    const sent = clicks.get(direct);
    if (sent !== undefined && sent > 0 && rms(f.samples) > 0.03 && toneShare(f.samples, f.sampleRate, 1000) > 0.3) {
      report.directClickRttMs.push(performance.now() - sent);
      clicks.delete(direct);
    }
  });
  for (let k = 0; k < 5; k++) {
    clicks.set(direct, -2);
    await sleep(800);
    clicks.set(direct, -1);
    await sleep(700);
  }
  await sleep(1000);
  clearInterval(tick);
  process.send?.({ type: 'report', report });
  await Promise.all([caller.stop(), a.stop(), b.stop()]);
  process.exit(0);
}

export async function runGatewayBench(): Promise<object> {
  const count = Number(process.env.BENCH_GATEWAY_CALLS ?? 50);
  const browserCodec = process.env.GATEWAY_BROWSER_CODEC === 'opus' ? 'opus' : 'pcmu';
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  // The gateway as `npm start` runs it: a child process (launcher.ts), so its CPU is its own.
  const gateway = startGatewayProcess({
    server: server.url,
    mintToken: () => server.mintToken(GATEWAY_PEER_ID),
    env: {
      ...process.env, SIP_HOST: '127.0.0.1', SIP_PORT: '0', GATEWAY_LOOPBACK_ONLY: '1', SIP_CALLS_PER_MINUTE: '100000',
      GATEWAY_BROWSER_CODEC: browserCodec,
    },
    log: (m) => { if (process.env.BENCH_DEBUG) console.error(`[gateway] ${m}`); },
  });
  await within(gateway.ready, 60_000, 'gateway start');
  const gatewayPid = gateway.pid ?? 0;
  const sippPort = 15060 + Math.floor(Math.random() * 1000) * 2;
  const sipp = spawn('sipp', ['-sf', FIXTURE, '-i', '127.0.0.1', '-p', String(sippPort), '-mi', '127.0.0.1', '-mp', String(sippPort + 2),
    '-rtp_echo', '-m', String(count + 20), '-nostdin', '-key', 'mport', String(sippPort + 2), '-timeout', '120s'], { stdio: 'ignore' });
  try {
    await sleep(500);
    // Baseline post-dial delay: a SIP UA straight to the same sipp.
    const direct: number[] = [];
    const stack = await SipStack.create({ port: 0 });
    const ua = new SipUA(stack);
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const c = ua.invite({
        requestUri: `sip:bob@127.0.0.1:${sippPort}`, dest: { host: '127.0.0.1', port: sippPort }, fromUser: 'baseline',
        sdp: buildSdp({ address: '127.0.0.1', port: 9, sessionId: '1', version: 1, codecs: ['PCMU'], dtmfPayloadType: 101 }),
      });
      await within(new Promise<void>((r) => { c.on('progress', (s) => { if (s === 180) { direct.push(performance.now() - t0); r(); } }); c.once('end', () => r()); }), 10_000, 'direct INVITE → 180');
      await answeredOrEnded(c);
      c.hangup();
    }
    await stack.close();
    // A failure in one of these must not erase the other figures: it is reported in its place.
    const carrier = await phase('carrier figures', 180_000, carrierFigures);
    const startupWindow = await phase('start-up window', 60_000 + Number(process.env.BENCH_GATEWAY_STARTS ?? 20) * 30_000, runStartupFigures);

    const idle0 = processCpuMs(gatewayPid);
    const idleT = performance.now();
    await sleep(2000);
    const idlePct = ((processCpuMs(gatewayPid) - idle0) / (performance.now() - idleT)) * 100;

    const tokens: Record<string, string[]> = {};
    for (const id of ['bench-caller', 'bench-echo-a', 'bench-echo-b']) tokens[id] = await Promise.all([0, 1, 2].map(() => server.mintToken(id)));
    // The callers stand in for browsers on other machines: they start like the gateway (no real-time threads,
    // helper threads in SCHED_BATCH) so that they do not preempt it.
    const noRt = schedulingPrefix();
    const callerArgs = ['--import', 'tsx', SELF, '--callers', JSON.stringify({ server: server.url, count, target: `bob@127.0.0.1:${sippPort}`, tokens })];
    const child = noRt.length
      ? spawn(noRt[0], [...noRt.slice(1), process.execPath, ...callerArgs], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
      : fork(SELF, callerArgs.slice(3), { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    let midStats: GatewayStats | undefined;
    let window: {
      gatewayPct: number; serverPct: number; threads: Record<string, number>; machineBusyPct: number; sippPct: number; callersPct: number;
      elu: number | null; load: number[]; rssMb: number; skipped: number;
    } | undefined;
    // The callers take count × 60 ms to place their calls, 4 s of warm-up, 10 s of measuring and ≈ 15 s for the
    // click round trips and the direct baseline.
    const report = await within(new Promise<CallerReport>((resolve, reject) => {
      child.on('message', (m: { type: string; report?: CallerReport }) => {
        if (m.type === 'measuring') {
          const t0 = performance.now();
          const gw0 = processCpuMs(gatewayPid);
          const server0 = process.cpuUsage();
          const threads0 = threadCpuMs(gatewayPid);
          const machine0 = machineTicks();
          const sipp0 = sipp.pid ? processCpuMs(sipp.pid) : 0;
          const callers0 = child.pid ? processCpuMs(child.pid) : 0;
          const stats0 = gateway.stats().catch(() => undefined);
          setTimeout(() => {
            void (async () => {
              const ms = performance.now() - t0;
              const pct = (x: number) => Math.round((x / ms) * 1000) / 10;
              const threads: Record<string, number> = {};
              for (const [name, v] of threadCpuMs(gatewayPid)) {
                const d = v - (threads0.get(name) ?? 0);
                if (d > 0) threads[name] = pct(d);
              }
              const machine1 = machineTicks();
              const gatewayPct = pct(processCpuMs(gatewayPid) - gw0);
              const serverUsed = process.cpuUsage(server0);
              const callersPct = child.pid ? pct(processCpuMs(child.pid) - callers0) : 0;
              const sippPct = sipp.pid ? pct(processCpuMs(sipp.pid) - sipp0) : 0;
              const before = await stats0;
              midStats = await gateway.stats().catch(() => undefined);
              let elu: number | null = null;
              if (before && midStats) {
                const active = midStats.eventLoop.active - before.eventLoop.active;
                const idle = midStats.eventLoop.idle - before.eventLoop.idle;
                elu = Math.round((active / Math.max(1, active + idle)) * 1000) / 1000;
              }
              let rssMb = 0;
              try { rssMb = Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${gatewayPid}/status`, 'utf8'))?.[1] ?? 0) / 1000); } catch { /* gone */ }
              window = {
                gatewayPct, serverPct: pct((serverUsed.user + serverUsed.system) / 1000), callersPct, sippPct, elu, rssMb,
                threads: Object.fromEntries(Object.entries(threads).sort((a, b) => b[1] - a[1])),
                machineBusyPct: Math.round(((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 2000) / 10,
                load: loadavg().map((x) => Math.round(x * 10) / 10),
                skipped: before && midStats ? midStats.pacerTicksSkipped - before.pacerTicksSkipped : 0,
              };
            })();
          }, 9000);
        }
        if (m.type === 'report' && m.report) resolve(m.report);
      });
      child.on('exit', (code) => reject(new Error(`callers exited ${code}`)));
    }), 120_000 + count * 1000, 'callers report').finally(() => { if (child.exitCode === null) child.kill(); });
    const final = await gateway.stats().catch(() => undefined);
    const jitter = (midStats?.rtp ?? []).reduce((acc, r) => ({
      lost: acc.lost + r.jitter.lost, underruns: acc.underruns + r.jitter.underruns, dropped: acc.dropped + r.jitter.dropped,
    }), { lost: 0, underruns: 0, dropped: 0 });
    const pdd = final?.postDialDelaysMs ?? [];
    const viaGateway = median(report.clickRttMs);
    const directRtt = median(report.directClickRttMs);
    const w = window;
    return {
      calls: count,
      browserCodec,
      threads: process.env.GATEWAY_HELPER_THREADS === 'keep'
        ? `as WebRTC sets them (${midStats?.realtimeThreads ?? '?'} real-time threads in the gateway)`
        : `helper threads SCHED_BATCH${gateway.realtimeDropped ? ', no CAP_SYS_NICE' : ''} (${midStats?.realtimeThreads ?? '?'} real-time threads in the gateway)`,
      established: report.established,
      failed: report.failed,
      cpu: {
        gatewayProcessPctOfOneCore: w?.gatewayPct ?? null,
        idlePct: Math.round(idlePct * 10) / 10,
        cpuPerCallPct: w && report.established ? Math.round(((w.gatewayPct - idlePct) / report.established) * 100) / 100 : null,
        rssMb: w?.rssMb ?? null,
        gatewayMainThreadEventLoopUtilization: w?.elu ?? null,
        gatewayThreadsPctOfOneCore: w?.threads ?? null,
        serverProcessPctOfOneCore: w?.serverPct ?? null,
        callersProcessPctOfOneCore: w?.callersPct ?? null,
        sippPctOfOneCore: w?.sippPct ?? null,
        machineBusyPctOfOneCore: w?.machineBusyPct ?? null,
        othersPctOfOneCore: w ? Math.round((w.machineBusyPct - w.gatewayPct - w.serverPct - w.callersPct - w.sippPct) * 10) / 10 : null,
        loadAverage: w?.load ?? null,
        callerSinkRates: report.rates,
        note: 'over the 9 s measuring window, % of one core (the machine has 2: 200). gateway = its child process (threads by /proc task name); server = this process (signalling); callers = the Node WebRTC "browsers" (another process); others = the rest of the machine (other people\'s work)',
      },
      audio: {
        measuredFrames: report.frames,
        gapFrames: report.gapFrames,
        gapRatio: report.frames ? Math.round((report.gapFrames / report.frames) * 10_000) / 10_000 : null,
        jitterBuffer: { ...jitter, callsCounted: midStats?.rtp.length ?? 0 },
        pacerTicksSkipped: w?.skipped ?? null,
      },
      latency: {
        clickRoundTripViaGatewayMs: { median: viaGateway, p95: p95(report.clickRttMs), samples: report.clickRttMs.length },
        clickRoundTripDirectWebRtcMs: { median: directRtt, samples: report.directClickRttMs.length },
        addedOneWayMs: viaGateway !== null && directRtt !== null ? Math.round(((viaGateway - directRtt) / 2) * 10) / 10 : null,
        note: 'added one-way = (round trip through gateway + sipp RTP echo − direct WebRTC echo round trip) / 2',
      },
      postDialDelayMs: {
        viaGateway: { median: median(pdd), p95: p95(pdd), samples: pdd.length },
        directUaToSipp: { median: median(direct), samples: direct.length },
        note: 'INVITE → first 180/183 as the gateway sees it; the baseline is our SIP UA straight to the same sipp in the same run',
        ...('error' in carrier ? { carrier } : carrier.postDialDelayMs),
      },
      srvFailoverMs: 'error' in carrier ? carrier : carrier.srvFailoverMs,
      startupWindow,
    };
  } finally {
    sipp.kill('SIGTERM');
    await gateway.stop();
    await server.close();
  }
}

/** Waits (10 s at most) until an outgoing SIP call is answered or has ended: one that ended is never answered. */
async function answeredOrEnded(c: ReturnType<SipUA['invite']>): Promise<void> {
  await within(new Promise<void>((r) => {
    if (c.isConfirmed || c.isEnded) r();
    c.once('answered', () => r());
    c.once('end', () => r());
  }), 10_000, 'SIP answer');
}

/** INVITE → 180 from our SIP UA (the gateway's) to a sipp; `targets` in order, as RFC 3263 hands them over. */
async function timeTo180(ua: SipUA, targets: Endpoint[], uriHost: string): Promise<number> {
  const t0 = performance.now();
  const c = ua.invite({
    requestUri: `sip:bob@${uriHost}`, dest: targets, fromUser: 'bench',
    sdp: buildSdp({ address: '127.0.0.1', port: 9, sessionId: '1', version: 1, codecs: ['PCMU'], dtmfPayloadType: 101 }),
  });
  const ms = await within(new Promise<number>((resolve, reject) => {
    c.on('progress', (st) => { if (st === 180) resolve(performance.now() - t0); });
    c.once('end', (e) => reject(new Error(`call ended ${e.kind} ${e.status ?? ''}`)));
  }), 30_000, `INVITE → 180 (${uriHost})`);
  await answeredOrEnded(c);
  c.hangup();
  return Math.round(ms * 10) / 10;
}

/**
 * Carrier-facing figures with the gateway's own SIP UA, in the same run: post-dial delay over UDP vs TCP (sipp -t t1;
 * TCP's first call pays the connection set-up), and RFC 3263 failover — a dnsmasq on 127.0.0.1 serving SRV records
 * whose first target is dead (timeout) or answers 503.
 */
async function carrierFigures(): Promise<{ postDialDelayMs: object; srvFailoverMs: object }> {
  const runs = 10;
  const base = 17060 + Math.floor(Math.random() * 500) * 4;
  const sipps = [] as Array<ReturnType<typeof spawn>>;
  const sippAt = (port: number, transport: 'u1' | 't1', calls: number, scenario = FIXTURE, extra: string[] = []) => {
    const child = spawn('sipp', ['-sf', scenario, '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(port + 2), '-t', transport,
      '-m', String(calls), '-nostdin', '-key', 'mport', String(port + 2), '-timeout', '60s', ...extra], { stdio: 'ignore' });
    sipps.push(child);
  };
  sippAt(base, 'u1', runs + 2);
  sippAt(base + 400, 't1', runs);
  sippAt(base + 800, 'u1', 2);
  const rejectFixture = fileURLToPath(new URL('../test/fixtures/sip/reject.xml', import.meta.url));
  const rejectFile = `${process.env.TMPDIR ?? '/tmp'}/bench-reject-${process.pid}.xml`;
  writeFileSync(rejectFile, readFileSync(rejectFixture, 'utf8').replaceAll('{{status}}', '503').replaceAll('{{reason}}', 'Service Unavailable'));
  sippAt(base + 1200, 'u1', 1, rejectFile);
  const dnsPort = base + 1600;
  const dns = spawn('/usr/sbin/dnsmasq', ['--no-daemon', '--conf-file=/dev/null', `--port=${dnsPort}`, '--listen-address=127.0.0.1', '--bind-interfaces',
    '--no-resolv', '--no-hosts', '--pid-file=', '--user=root', '--host-record=a.carrier.bench,127.0.0.1', '--host-record=b.carrier.bench,127.0.0.1',
    `--srv-host=_sip._udp.dead.bench,a.carrier.bench,${base + 1000},10,0`, `--srv-host=_sip._udp.dead.bench,b.carrier.bench,${base + 800},20,0`,
    `--srv-host=_sip._udp.busy.bench,a.carrier.bench,${base + 1200},10,0`, `--srv-host=_sip._udp.busy.bench,b.carrier.bench,${base},20,0`], { stdio: 'ignore' });
  const stack = await SipStack.create({ port: 0 });
  const ua = new SipUA(stack);
  try {
    await sleep(700);
    const udp: number[] = [];
    const tcp: number[] = [];
    for (let i = 0; i < runs; i++) {
      udp.push(await timeTo180(ua, [{ host: '127.0.0.1', port: base }], `127.0.0.1:${base}`));
      tcp.push(await timeTo180(ua, [{ host: '127.0.0.1', port: base + 400, transport: 'tcp' }], `127.0.0.1:${base + 400}`));
    }
    const locator = new SipLocator({ dnsServers: [`127.0.0.1:${dnsPort}`] });
    const t0 = performance.now();
    const deadTargets = await locator.locate({ host: 'dead.bench' });
    const lookupMs = Math.round((performance.now() - t0) * 10) / 10;
    const afterTimeout = await timeTo180(ua, deadTargets, 'dead.bench');
    const after503 = await timeTo180(ua, await locator.locate({ host: 'busy.bench' }), 'busy.bench');
    return {
      postDialDelayMs: {
        udpDirect: { median: median(udp), samples: udp },
        tcpDirect: { median: median(tcp), samples: tcp, note: 'sipp -t t1; the first sample includes the TCP connection set-up' },
      },
      srvFailoverMs: {
        srvLookup: lookupMs,
        firstTargetDeadTo180: afterTimeout,
        firstTarget503To180: after503,
        note: 'INVITE → 180 when the first SRV target never answers (FAILOVER_TIMEOUT, then the next) or answers 503 (at once)',
      },
    };
  } finally {
    await stack.close();
    dns.kill('SIGTERM');
    for (const c of sipps) c.kill('SIGTERM');
    rmSync(rejectFile, { force: true });
  }
}

if (process.argv[2] === '--callers') {
  await callersMain();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runGatewayBench();
  console.log(JSON.stringify({ gateway: result }, null, 2));
  process.exit(0);
}
