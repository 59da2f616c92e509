// Gateway benchmark: N concurrent bridged calls (WebRTC ↔ G.711 RTP) on this machine, all on 127.0.0.1.
//
//   node --import tsx bench/gateway.ts            (prints JSON; BENCH_GATEWAY_CALLS=50 by default)
//
// Layout: this process runs the calling server and the gateway (so its CPU is the gateway's); a child process
// (this file with --callers) plays N "browsers" (Node WebRTC peers, each sending a 440 Hz tone); one sipp answers
// every call with RTP echo. Figures:
// - cpuPerCallPct: gateway process CPU (% of one core) per bridged call, idle baseline subtracted;
// - audio gaps: 10 ms frames of silence in each caller's echoed tone after warm-up, plus the gateway's jitter
//   buffer counters (lost / underruns / dropped) and pacer ticks skipped;
// - addedLatencyMs: one-way latency through the gateway = (echo round trip − the same round trip with sipp
//   echoing straight back to a Node WebRTC peer is not possible, so) half the round trip of a click through
//   caller → gateway → sipp echo → gateway → caller, minus half the round trip of a direct WebRTC echo between two
//   Node peers in the same run;
// - postDialDelayMs: INVITE → 180 as the gateway sees it, vs a direct SIP UA → the same sipp in the same run.
import { fork, spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { startCallingServer } from '../src/server/calling-server.js';
import { GATEWAY_PEER_ID } from '../src/core/protocol.js';
import { Gateway } from '../src/server/gateway/gateway.js';
import { rms, toneShare } from '../src/server/gateway/media/dsp.js';
import { buildSdp } from '../src/server/gateway/media/sdp.js';
import { SipStack } from '../src/server/gateway/sip/stack.js';
import { SipUA } from '../src/server/gateway/sip/ua.js';
import { sharedPacer } from '../src/server/gateway/media/pacer.js';
import { NodePeer, type PeerSession } from '../src/server/node-peer/index.js';
import { batchHelperThreads } from '../src/server/conference/threads.js';

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
function processCpuMs(pid: number | 'self'): number { return procTicks(`/proc/${pid}/stat`) * TICK_MS; }
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
  const sessions: PeerSession[] = [];
  const report: CallerReport = { established: 0, failed: 0, gapFrames: 0, frames: 0, clickRttMs: [], directClickRttMs: [], cpuPct: 0, rates: [] };
  const rates = new Set<number>();
  const measuring = { on: false };
  const clicks = new Map<PeerSession, number>();
  let phase = 0;
  const tick = setInterval(() => {
    phase += 480;
    for (const s of sessions) {
      // Click state: undefined → tone; -2 → silence (let the tone's echo drain); -1 → send a click now; > 0 → silence
      // until the click's echo is back.
      const state = clicks.get(s);
      const f = new Int16Array(480);
      if (state === undefined) for (let i = 0; i < 480; i++) f[i] = Math.round(6000 * Math.sin((2 * Math.PI * 440 * (phase + i)) / 48000));
      else if (state === -1) {
        for (let i = 0; i < 480; i++) f[i] = Math.round(20000 * Math.sin((2 * Math.PI * 1000 * i) / 48000)); // a 10 ms 1 kHz burst
        clicks.set(s, performance.now());
      }
      s.sendAudio(f, 48000);
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
  // The callers stand in for browsers on other machines: as root, their WebRTC media threads would run real-time
  // (SCHED_FIFO) and preempt the gateway's JS thread on this shared machine. BENCH_CALLER_THREADS=keep leaves them.
  if (process.env.BENCH_CALLER_THREADS !== 'keep') await batchHelperThreads();
  await sleep(4000); // warm-up: media and jitter buffers settle
  if (process.env.BENCH_CALLER_THREADS !== 'keep') await batchHelperThreads();
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
    inc.onAudio((f) => { if (f.sampleRate === 48000) inc.sendAudio(f.samples.slice(0, 480), 48000); });
    inc.answer();
  });
  const direct = a.call('bench-echo-b', { callId: 'bench-direct', from: 'bench-echo-a', to: 'bench-echo-b', callType: 'user', video: false, headers: {} });
  await new Promise((r) => direct.once('media', () => r(undefined)));
  sessions.length = 0;
  sessions.push(direct);
  direct.onAudio((f) => {
    const sent = clicks.get(direct);
    if (f.sampleRate === 48000 && sent !== undefined && sent > 0 && rms(f.samples) > 0.03 && toneShare(f.samples, 48000, 1000) > 0.3) {
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
  const gateway = await Gateway.start({
    server: server.url, token: () => server.mintToken(GATEWAY_PEER_ID), sipHost: '127.0.0.1', sipPort: 0,
    candidateFilter: loopbackOnly, maxCallsPerMinute: 100_000, browserCodec,
  });
  // Post-dial delay as the gateway sees it: INVITE sent → first 180.
  const pdd: number[] = [];
  const invite = gateway.ua.invite.bind(gateway.ua);
  gateway.ua.invite = (opts) => {
    const t0 = performance.now();
    const call = invite(opts);
    call.on('progress', (status) => { if (status === 180 && pdd.length < 10_000) pdd.push(performance.now() - t0); });
    return call;
  };
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
      await new Promise<void>((r) => { c.on('progress', (s) => { if (s === 180) { direct.push(performance.now() - t0); r(); } }); c.once('end', () => r()); });
      await new Promise<void>((r) => { if (c.isConfirmed) r(); else c.once('answered', () => r()); });
      c.hangup();
    }
    await stack.close();

    const idleStart = process.cpuUsage();
    const idleT = performance.now();
    await sleep(2000);
    const idle = process.cpuUsage(idleStart);
    const idlePct = ((idle.user + idle.system) / 1000 / (performance.now() - idleT)) * 100;

    const tokens: Record<string, string[]> = {};
    for (const id of ['bench-caller', 'bench-echo-a', 'bench-echo-b']) tokens[id] = await Promise.all([0, 1, 2].map(() => server.mintToken(id)));
    const child = fork(SELF, ['--callers', JSON.stringify({ server: server.url, count, target: `bob@127.0.0.1:${sippPort}`, tokens })], {
      execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    let cpu: { pct: number } | undefined;
    let rssMb = 0;
    let midStats = gateway.stats();
    let skippedBefore = 0;
    let window: { threads: Record<string, number>; machineBusyPct: number; sippPct: number; callersPct: number; elu: number; load: number[] } | undefined;
    const report = await new Promise<CallerReport>((resolve, reject) => {
      let start: NodeJS.CpuUsage | undefined;
      let t0 = 0;
      child.on('message', (m: { type: string; report?: CallerReport }) => {
        if (m.type === 'measuring') {
          start = process.cpuUsage();
          t0 = performance.now();
          skippedBefore = sharedPacer.skipped;
          const threads0 = threadCpuMs('self');
          const machine0 = machineTicks();
          const sipp0 = sipp.pid ? processCpuMs(sipp.pid) : 0;
          const callers0 = child.pid ? processCpuMs(child.pid) : 0;
          const elu0 = performance.eventLoopUtilization();
          setTimeout(() => {
            if (!start) return;
            const used = process.cpuUsage(start);
            const ms = performance.now() - t0;
            cpu = { pct: ((used.user + used.system) / 1000 / ms) * 100 };
            rssMb = Math.round(process.memoryUsage().rss / 1e6);
            midStats = gateway.stats();
            const pct = (x: number) => Math.round((x / ms) * 1000) / 10;
            const threads: Record<string, number> = {};
            for (const [name, v] of threadCpuMs('self')) {
              const d = v - (threads0.get(name) ?? 0);
              if (d > 0) threads[name] = pct(d);
            }
            const machine1 = machineTicks();
            window = {
              threads: Object.fromEntries(Object.entries(threads).sort((a, b) => b[1] - a[1])),
              machineBusyPct: Math.round(((machine1.busy - machine0.busy) / Math.max(1, machine1.total - machine0.total)) * 2000) / 10,
              sippPct: sipp.pid ? pct(processCpuMs(sipp.pid) - sipp0) : 0,
              callersPct: child.pid ? pct(processCpuMs(child.pid) - callers0) : 0,
              elu: Math.round(performance.eventLoopUtilization(elu0).utilization * 1000) / 1000,
              load: loadavg().map((x) => Math.round(x * 10) / 10),
            };
          }, 9000);
        }
        if (m.type === 'report' && m.report) resolve(m.report);
      });
      child.on('exit', (code) => reject(new Error(`callers exited ${code}`)));
    });
    const jitter = midStats.rtp.reduce((acc, r) => ({
      lost: acc.lost + r.jitter.lost, underruns: acc.underruns + r.jitter.underruns, dropped: acc.dropped + r.jitter.dropped,
    }), { lost: 0, underruns: 0, dropped: 0 });
    const viaGateway = median(report.clickRttMs);
    const directRtt = median(report.directClickRttMs);
    return {
      calls: count,
      browserCodec,
      gatewayHelperThreads: process.env.GATEWAY_HELPER_THREADS === 'keep' ? 'kept' : `SCHED_BATCH (${gateway.batchedThreads} moved)`,
      callerHelperThreads: process.env.BENCH_CALLER_THREADS === 'keep' ? 'kept' : 'SCHED_BATCH',
      established: report.established,
      failed: report.failed,
      cpu: {
        gatewayProcessPctOfOneCore: cpu ? Math.round(cpu.pct * 10) / 10 : null,
        idlePct: Math.round(idlePct * 10) / 10,
        cpuPerCallPct: cpu && report.established ? Math.round(((cpu.pct - idlePct) / report.established) * 100) / 100 : null,
        rssMb,
        gatewayMainThreadEventLoopUtilization: window?.elu ?? null,
        gatewayThreadsPctOfOneCore: window?.threads ?? null,
        callersProcessPctOfOneCore: window?.callersPct ?? null,
        sippPctOfOneCore: window?.sippPct ?? null,
        machineBusyPctOfOneCore: window?.machineBusyPct ?? null,
        othersPctOfOneCore: window && cpu ? Math.round((window.machineBusyPct - cpu.pct - window.callersPct - window.sippPct) * 10) / 10 : null,
        loadAverage: window?.load ?? null,
        callerSinkRates: report.rates,
        note: 'gateway and calling server in one process (threads: /proc task names); callers (Node WebRTC) in another; sipp in a third; machine busy is in % of one core (2 cores = 200); others = the rest of the machine (other people\'s work)',
      },
      audio: {
        measuredFrames: report.frames,
        gapFrames: report.gapFrames,
        gapRatio: report.frames ? Math.round((report.gapFrames / report.frames) * 10_000) / 10_000 : null,
        jitterBuffer: { ...jitter, callsCounted: midStats.rtp.length },
        pacerTicksSkipped: sharedPacer.skipped - skippedBefore,
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
        note: 'INVITE → 180; the baseline is our SIP UA straight to the same sipp in the same run',
      },
    };
  } finally {
    sipp.kill('SIGTERM');
    await gateway.stop();
    await server.close();
  }
}

if (process.argv[2] === '--callers') {
  await callersMain();
} else if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = await runGatewayBench();
  console.log(JSON.stringify({ gateway: result }, null, 2));
  process.exit(0);
}
