// `npm run bench`: every benchmark (calls, audio, signalling, gateway, conference, load, turn, cluster) against real servers on
// 127.0.0.1; prints one JSON document.
// Set BENCH_CALLS / BENCH_CYCLES / BENCH_SOAK to change the counts (defaults 20 / 200 / 500).
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { startCallingServer, type CallingServer } from '../src/server/calling-server.js';
import { browserAliases, peerjsFixPlugin } from '../scripts/aliases.mjs';
import { turnReady } from '../test/support/turn-ready.js';

const calls = Number(process.env.BENCH_CALLS ?? 20);
const cycleCount = Number(process.env.BENCH_CYCLES ?? 200);
const soakCount = Number(process.env.BENCH_SOAK ?? 500);

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
  try {
    const page = await browser.newPage();
    await page.exposeFunction('restartServer', async (downMs: number) => {
      await server.close();
      await new Promise((r) => setTimeout(r, downMs));
      server = await startCallingServer({ port, secret, host: '127.0.0.1', serveDemo: false });
      mount(server);
    });
    await page.exposeFunction('turn', (action: string) => turn.command(action));
    page.on('pageerror', (e) => console.error('page error:', e.message));
    page.on('crash', () => console.error('page crashed'));
    if (process.env.BENCH_DEBUG) page.on('console', (m) => console.error('page:', m.text()));
    await page.goto(`${server.url}/bench/`);
    await page.waitForFunction(() => 'bench' in window);
    return await page.evaluate(
      (opts) => (window as unknown as { bench: { run(o: object): Promise<object> } }).bench.run(opts),
      { calls, cycles: cycleCount, soak: soakCount },
    );
  } finally {
    turn.command('stop');
    await browser.close();
    await server.close();
  }
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
