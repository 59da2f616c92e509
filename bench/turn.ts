// TURN figures for `npm run bench`: call setup time relayed (both sides iceTransportPolicy 'relay', credentials
// from the server) vs direct, in the same run (ratio), and coturn's CPU per relayed audio call held open.
import { readFileSync } from 'node:fs';
import { chromium, type Page } from 'playwright-core';
import { startCallingServer } from '../src/server/calling-server.js';
import { EmbeddedTurn } from '../src/server/turn/embedded.js';
import { CHROMIUM, CHROMIUM_ARGS, keepNames, placeVideoCall, signIn } from '../test/support/browser-call.js';
import { phase, within } from './deadline.js';

const CALLS = Number(process.env.BENCH_TURN_CALLS ?? 5);
const HOLD_MS = 5000;

function cpuTicks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

export async function runTurnBench(): Promise<object> {
  const port = 36_000 + Math.floor(Math.random() * 1000);
  const turn = await EmbeddedTurn.start({ port, minPort: port + 1, maxPort: port + 200, listeningIp: '127.0.0.1', allowLoopbackPeers: true });
  const server = await startCallingServer({ port: 0, turn: { urls: [`turn:127.0.0.1:${port}?transport=udp`], secret: turn.secret } });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const pair = async (suffix: string, options: Record<string, unknown>): Promise<[Page, Page]> => {
    const [a, b] = [await browser.newPage(), await browser.newPage()];
    for (const p of [a, b]) await p.goto(`${server.url}/`);
    await within(signIn(a, `caller${suffix}`, options), 30_000, `caller${suffix} sign-in`);
    await within(signIn(b, `callee${suffix}`, options), 30_000, `callee${suffix} sign-in`);
    return [a, b];
  };
  const hangup = (p: Page) => within(p.evaluate(async () => {
    (window as unknown as { call?: { hangup(): void } }).call?.hangup();
    await new Promise((r) => setTimeout(r, 300));
  }), 10_000, 'hang-up');
  // A call ends by itself at the latest after the client's no-answer timeout (45 s).
  const place = (p: Page, callee: string) => within(placeVideoCall(p, callee, false), 60_000, `call to ${callee}`);
  try {
    const direct = await pair('d', { iceServers: [] });
    const relayed = await pair('r', { iceTransportPolicy: 'relay' });
    const times: Record<'direct' | 'relayed', number[]> = { direct: [], relayed: [] };
    const failures: Record<'direct' | 'relayed', number> = { direct: 0, relayed: 0 };
    for (let i = 0; i < CALLS; i++) {
      for (const [kind, [a]] of [['direct', direct], ['relayed', relayed]] as const) {
        const outcome = await place(a, kind === 'direct' ? 'calleed' : 'calleer').catch(() => undefined);
        if (outcome?.state === 'established') times[kind].push(outcome.ms);
        else failures[kind]++;
        await hangup(a);
      }
    }
    // coturn CPU while one relayed audio call is up (its own phase: a failure here keeps the setup figures).
    const [a] = relayed;
    const coturnCpu = await phase('coturn CPU', 90_000, async () => {
      await keepNames(a);
      const held = await place(a, 'calleer'); // the relayed pair's callee
      const pid = turn.pid!;
      const before = cpuTicks(pid);
      await new Promise((r) => setTimeout(r, HOLD_MS));
      const cpuPercent = ((cpuTicks(pid) - before) / 100 / (HOLD_MS / 1000)) * 100;
      await hangup(a);
      return held.state === 'established' ? Math.round(cpuPercent * 100) / 100 : null;
    });
    return {
      calls: CALLS,
      setupMsMedian: { direct: median(times.direct), relayed: median(times.relayed) },
      relayedVsDirect: Math.round((median(times.relayed) / median(times.direct)) * 100) / 100,
      failures,
      coturnCpuPercentPerRelayedAudioCall: coturnCpu,
    };
  } finally {
    await within(browser.close(), 20_000, 'browser close').catch((e: unknown) => console.error(String(e)));
    await within(server.close(), 20_000, 'server close').catch((e: unknown) => console.error(String(e)));
    await turn.stop();
  }
}
