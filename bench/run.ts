// `npm run bench`: every benchmark (calls, audio, signalling, gateway, conference, load, turn, cluster, spray) against real servers on
// 127.0.0.1; prints one JSON document.
// Set BENCH_CALLS / BENCH_CYCLES / BENCH_SOAK to change the counts (defaults 20 / 200 / 500).
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { startCallingServer, type CallingServer } from '../src/server/calling-server.js';
import { browserAliases, peerjsFixPlugin } from '../scripts/aliases.mjs';
import { turnReady } from '../test/support/turn-ready.js';
import type { CallPhase, PhaseOptions } from './calls-page.js';
import { failed, phase, within, type PhaseResult } from './deadline.js';

const calls = Number(process.env.BENCH_CALLS ?? 20);
const cycleCount = Number(process.env.BENCH_CYCLES ?? 200);
const soakCount = Number(process.env.BENCH_SOAK ?? 500);
// BENCH_CALL_PHASES=ours,rawPeerJs runs only those phases of the calls suite (to look into one).
const only = process.env.BENCH_CALL_PHASES?.split(',').map((x) => x.trim());

export async function runCallBench(): Promise<object> {
  let server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  const bundle = await build({ entryPoints: ['bench/calls-page.ts'], bundle: true, format: 'esm', write: false, minify: true, logLevel: 'silent', alias: browserAliases, plugins: [peerjsFixPlugin] });
  const js = bundle.outputFiles[0].text;
  const { port, secret, url } = server;
  const mount = (s: CallingServer) => {
    // Tokens from the bench itself: a restarted server keeps the secret but is no longer in demo mode.
    s.app.get('/bench/token', (req, res) => {
      s.mintToken(String(req.query.userId ?? '')).then((token) => res.json({ token }), () => res.status(400).end());
    });
    s.app.get('/bench/page.js', (_req, res) => { res.type('js').send(js); });
    s.app.get('/bench/', (_req, res) => {
      res.type('html').send(`<!doctype html><title>bench</title><script>window.BENCH=${JSON.stringify({ server: url, host: '127.0.0.1', port })}</script><script type="module" src="/bench/page.js"></script>`);
    });
  };
  mount(server);
  const turn = new TurnRelay();
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
      '--js-flags=--expose-gc', '--enable-precise-memory-info'],
  });
  const options: PhaseOptions = { calls, cycles: cycleCount, soak: soakCount };
  // Each phase's own deadline, beyond the page's deadlines for each of its waits: a page that stops answering.
  const budgetMs: Record<CallPhase, number> = {
    rawPeerJs: 60_000 + calls * 2000,
    rawPeerJsWithDataConnection: 60_000 + calls * 2000,
    ours: 60_000 + calls * 2000,
    unreachable: 90_000,
    hangupCycles: 120_000 + cycleCount * 3000,
    soak: 120_000 + soakCount * 3000,
    signallingRestart: 300_000,
    networkRestore: 240_000,
    iceRestart: 360_000,
  };
  const results: Partial<Record<CallPhase, PhaseResult<Record<string, unknown>>>> = {};
  try {
    const context = await browser.newContext();
    await context.exposeFunction('restartServer', async (downMs: number) => {
      await server.close();
      await new Promise((r) => setTimeout(r, downMs));
      server = await startCallingServer({ port, secret, host: '127.0.0.1', serveDemo: false });
      mount(server);
    });
    await context.exposeFunction('turn', (action: string) => turn.command(action));
    for (const name of Object.keys(budgetMs) as CallPhase[]) {
      if ((name === 'soak' && soakCount <= 0) || (only && !only.includes(name))) continue;
      if (process.env.BENCH_DEBUG) console.error(`calls: ${name}`);
      // A fresh page per phase: nothing a failed phase left behind (clients, calls, timers) reaches the next one.
      const page = await context.newPage();
      page.on('pageerror', (e) => console.error(`page error (${name}):`, e.message));
      page.on('crash', () => console.error(`page crashed (${name})`));
      if (process.env.BENCH_DEBUG) page.on('console', (m) => console.error('page:', m.text()));
      results[name] = await phase(name, budgetMs[name], async () => {
        await page.goto(`${server.url}/bench/`, { timeout: 20_000 });
        await page.waitForFunction(() => 'bench' in window, null, { timeout: 20_000 });
        return page.evaluate(
          ([n, o]) => (window as unknown as { bench: { phase(n: CallPhase, o: PhaseOptions): Promise<Record<string, unknown>> } }).bench.phase(n, o),
          [name, options] as const,
        );
      });
      // Closing the page also ends an evaluation the phase's deadline gave up on; the relay must not stay frozen.
      await within(page.close(), 10_000, 'page close').catch((e: unknown) => console.error(String(e)));
      await turn.command('resume');
    }
  } finally {
    turn.command('stop');
    await within(browser.close(), 20_000, 'browser close').catch((e: unknown) => console.error(String(e)));
    await within(server.close(), 20_000, 'server close').catch((e: unknown) => console.error(String(e)));
  }
  return callFigures(results, options);
}

/** The report: each phase's figures or its error; call setup compared with raw PeerJS where both sides have figures. */
function callFigures(r: Partial<Record<CallPhase, PhaseResult<Record<string, unknown>>>>, o: PhaseOptions): object {
  const medianOf = (p: PhaseResult<Record<string, unknown>> | undefined) => (p && !failed(p) ? (p.medianMs as number) : null);
  const ratio = (a: number | null, b: number | null) => (a !== null && b ? Math.round((a / b) * 100) / 100 : null);
  const [oursMs, rawMs, rawDataMs] = [medianOf(r.ours), medianOf(r.rawPeerJs), medianOf(r.rawPeerJsWithDataConnection)];
  const errors = Object.fromEntries((['ours', 'rawPeerJs', 'rawPeerJsWithDataConnection'] as const)
    .flatMap((k) => { const p = r[k]; return p && failed(p) ? [[k, p.error]] : []; }));
  return {
    callSetup: {
      calls: o.calls,
      oursMedianMs: oursMs,
      rawPeerJsMedianMs: rawMs,
      rawPeerJsWithDataConnectionMedianMs: rawDataMs,
      ratio: ratio(oursMs, rawMs),
      // PeerJS opens one PeerConnection per connection: our call-control DataConnection costs a second one.
      ratioToSameWork: ratio(oursMs, rawDataMs),
      oursPhasesMedianMs: r.ours && !failed(r.ours) ? r.ours.phasesMedianMs : null,
      goalRatio: 1.25,
      ...(Object.keys(errors).length ? { errors } : {}),
    },
    unreachable: r.unreachable,
    hangupCycles: r.hangupCycles,
    ...(r.soak ? { soak: r.soak } : {}),
    recovery: { signallingRestart: r.signallingRestart, networkRestore: r.networkRestore, iceRestart: r.iceRestart },
  };
}

/**
 * coturn on 127.0.0.1 for the media-recovery figures: frozen (SIGSTOP) and thawed to cut and restore the media path, or
 * restarted to lose it for good (ICE restart).
 */
class TurnRelay {
  private proc: ChildProcess | undefined;
  private port = 0;
  async command(action: string): Promise<RTCIceServer | null> {
    if (action === 'start' && !this.proc) {
      try {
        execFileSync('which', ['turnserver'], { stdio: 'ignore' });
      } catch {
        return null;
      }
      this.port = 34_000 + Math.floor(Math.random() * 1000);
      await this.launch();
    }
    if (action === 'pause') this.proc?.kill('SIGSTOP');
    if (action === 'resume') this.proc?.kill('SIGCONT');
    if (action === 'restart' && this.proc) {
      // A new relay on the same port: every allocation is lost, only an ICE restart brings media back.
      const old = this.proc;
      if (old.exitCode === null && old.signalCode === null) {
        const exited = new Promise((r) => old.once('exit', r));
        old.kill('SIGKILL');
        await exited;
      }
      await this.launch();
    }
    if (action === 'stop') {
      this.proc?.kill('SIGCONT');
      this.proc?.kill('SIGKILL');
      this.proc = undefined;
    }
    return this.proc ? { urls: `turn:127.0.0.1:${this.port}?transport=udp`, username: 'bench', credential: 'bench' } : null;
  }

  private async launch(): Promise<void> {
    this.proc = spawn('turnserver', ['-n', '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${this.port}`,
      '--min-port=49500', '--max-port=49700', '--no-tls', '--no-dtls', '--no-cli', '--lt-cred-mech', '--user=bench:bench',
      '--realm=calling-elements', '--allow-loopback-peers'], { stdio: 'ignore' });
    await turnReady(this.port);
  }
}

// Every suite in one JSON document; BENCH_SUITES=calls,audio picks some (default: all).
const suites: Record<string, () => Promise<object>> = {
  calls: runCallBench,
  audio: async () => (await import('./audio.js')).runAudioBench(),
  signalling: async () => (await import('./signalling.js')).runSignallingBench(),
  gateway: async () => (await import('./gateway.js')).runGatewayBench(),
  conference: async () => (await import('./conference.js')).runConferenceBench(),
  load: async () => (await import('./load.js')).runLoadBench(),
  turn: async () => (await import('./turn.js')).runTurnBench(),
  cluster: async () => (await import('./cluster.js')).runClusterBench(),
  spray: async () => (await import('./sip-spray.js')).runSprayBench(),
};
const chosen = (process.env.BENCH_SUITES ?? Object.keys(suites).join(',')).split(',').map((x) => x.trim()).filter(Boolean);
const os = await import('node:os');
const results: Record<string, unknown> = {
  machine: { cpus: os.cpus().length, node: process.version, loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10) },
};
for (const name of chosen) {
  const run = suites[name];
  if (!run) throw new Error(`unknown bench suite "${name}" (known: ${Object.keys(suites).join(', ')})`);
  try {
    results[name] = await run();
  } catch (err) {
    results[name] = { error: String(err instanceof Error ? err.message : err) };
  }
}
console.log(JSON.stringify(results, null, 2));
process.exit(0);
