// SIP spray benchmark: what junk at the SIP port costs a call in progress. One bridged call — a Node "browser" in
// this process → the gateway as its own child process (as `npm start` runs it) → sipp answering with RTP echo —
// measured for 10 s quiet, 10 s while 2,000 mutated INVITEs (≤ 1500 bytes, test/support/sip-junk.ts) arrive at the
// gateway's SIP port from this process at about 200 per second (50 every 250 ms), and 10 s quiet again. Same call.
// Figures per window: the gateway process's CPU (% of one core) and its main thread's event-loop utilization, and
// what the caller hears of its echoed 440 Hz tone (share of 50 ms windows where the tone dominates, longest break);
// then the spray's CPU cost per datagram and the ratios spray / quiet.
//
//   node --import tsx bench/sip-spray.ts        (or BENCH_SUITES=spray npm run bench)
import { createSocket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { startCallingServer } from '../src/server/calling-server.js';
import { GATEWAY_PEER_ID } from '../src/core/protocol.js';
import type { GatewayStats } from '../src/server/gateway/gateway.js';
import { startGatewayProcess } from '../src/server/gateway/launcher.js';
import { NodePeer } from '../src/server/node-peer/index.js';
import { loopbackOnly, once, playTone, record, sleep, startSipp, toneHeard } from '../test/node/gateway-harness.js';
import { sipJunk } from '../test/support/sip-junk.js';
import { within } from './deadline.js';
import { processCpuMs } from './gateway.js';

const WINDOW_MS = 10_000;

export async function runSprayBench(): Promise<object> {
  const junk = sipJunk(); // before anything runs: generating it is ~0.6 s of this event loop
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  const gateway = startGatewayProcess({
    server: server.url,
    mintToken: () => server.mintToken(GATEWAY_PEER_ID),
    env: { ...process.env, SIP_HOST: '127.0.0.1', SIP_PORT: '0', GATEWAY_LOOPBACK_ONLY: '1' },
    log: (m) => { if (process.env.BENCH_DEBUG) console.error(`[gateway] ${m}`); },
  });
  const spray = createSocket('udp4');
  let sipp: Awaited<ReturnType<typeof startSipp>> | undefined;
  let caller: NodePeer | undefined;
  try {
    const sip = await within(gateway.ready, 60_000, 'gateway start');
    const pid = gateway.pid ?? 0;
    sipp = await startSipp('answer.xml');
    const id = `bench-spray-${process.pid}`;
    caller = await NodePeer.start({ id, server: server.url, token: () => server.mintToken(id), candidateFilter: loopbackOnly });
    const s = caller.call(GATEWAY_PEER_ID, { callId: `spray-${process.pid}`, from: 'bench', to: `bob@127.0.0.1:${sipp.port}`, callType: 'sip', video: false, headers: {} });
    const heard = record(s);
    await once(s, 'answer');
    const stop = playTone(s, 440);
    await sleep(1000);
    const measure = async (datagrams: Buffer[]) => {
      const stats0: GatewayStats = await gateway.stats();
      const cpu0 = processCpuMs(pid);
      const from = heard.samples().length;
      const t0 = performance.now();
      for (let i = 0; i < datagrams.length; i++) {
        spray.send(datagrams[i]!, sip.port, sip.host);
        if (i % 50 === 49) await sleep(250);
      }
      await sleep(Math.max(0, WINDOW_MS - (performance.now() - t0)));
      const ms = performance.now() - t0;
      const cpuMs = processCpuMs(pid) - cpu0;
      const stats1 = await gateway.stats();
      const active = stats1.eventLoop.active - stats0.eventLoop.active;
      const idle = stats1.eventLoop.idle - stats0.eventLoop.idle;
      const tone = toneHeard(heard.samples().subarray(from), heard.rate(), 440);
      return {
        datagrams: datagrams.length,
        seconds: Math.round(ms / 100) / 10,
        cpuMs,
        gatewayPctOfOneCore: Math.round((cpuMs / ms) * 1000) / 10,
        eventLoopUtilization: Math.round((active / Math.max(1, active + idle)) * 1000) / 1000,
        pacerTicksSkipped: stats1.pacerTicksSkipped - stats0.pacerTicksSkipped,
        toneCleanWindows: Math.round(tone.clean * 1000) / 1000,
        longestBreakMs: tone.longestGapMs,
      };
    };
    const quiet = await measure([]);
    const sprayed = await measure(junk);
    const after = await measure([]);
    stop();
    s.hangup('hungUp');
    const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);
    // The quiet baseline is the mean of the windows before and after the spray (other work on the machine drifts).
    const base = (k: 'cpuMs' | 'eventLoopUtilization' | 'toneCleanWindows') => (quiet[k] + after[k]) / 2;
    return {
      quiet,
      spray: sprayed,
      quietAfter: after,
      cpuUsPerDatagram: Math.round(((sprayed.cpuMs - base('cpuMs')) * 1000) / junk.length),
      ratio: {
        gatewayCpu: ratio(sprayed.cpuMs, base('cpuMs')),
        eventLoopUtilization: ratio(sprayed.eventLoopUtilization, base('eventLoopUtilization')),
        toneCleanWindows: ratio(sprayed.toneCleanWindows, base('toneCleanWindows')),
      },
      note: 'one bridged call, 10 s quiet, 10 s with 2,000 mutated INVITEs at ~200/s, 10 s quiet; ratios against the mean of the quiet windows; CPU from /proc (10 ms ticks) of the gateway child process; tone: share of 50 ms windows of the caller\'s echoed 440 Hz where it dominates',
    };
  } finally {
    spray.close();
    sipp?.stop();
    await caller?.stop();
    await gateway.stop();
    await server.close();
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(JSON.stringify({ spray: await runSprayBench() }, null, 2));
  process.exit(0);
}
