// `npm run bench`: benchmarks in real Chromium against a real calling server on 127.0.0.1; prints JSON.
// Set BENCH_CALLS / BENCH_CYCLES to change the counts (defaults 20 / 200).
import { build } from 'esbuild';
import { chromium } from 'playwright-core';
import { startCallingServer } from '../src/server/calling-server.js';
import { browserAliases } from '../scripts/aliases.mjs';

const calls = Number(process.env.BENCH_CALLS ?? 20);
const cycleCount = Number(process.env.BENCH_CYCLES ?? 200);

export async function runCallBench(): Promise<object> {
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  const bundle = await build({ entryPoints: ['bench/calls-page.ts'], bundle: true, format: 'esm', write: false, minify: true, logLevel: 'silent', alias: browserAliases });
  const js = bundle.outputFiles[0].text;
  server.app.get('/bench/page.js', (_req, res) => { res.type('js').send(js); });
  server.app.get('/bench/', (_req, res) => {
    res.type('html').send(`<!doctype html><title>bench</title><script>window.BENCH=${JSON.stringify({ server: server.url, host: '127.0.0.1', port: server.port })}</script><script type="module" src="/bench/page.js"></script>`);
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${server.url}/bench/`);
    await page.waitForFunction(() => 'bench' in window);
    return await page.evaluate(
      (opts) => (window as unknown as { bench: { run(o: object): Promise<object> } }).bench.run(opts),
      { calls, cycles: cycleCount },
    );
  } finally {
    await browser.close();
    await server.close();
  }
}

const results: Record<string, unknown> = { machine: { cpus: (await import('node:os')).cpus().length, node: process.version } };
results.calls = await runCallBench();
console.log(JSON.stringify(results, null, 2));
process.exit(0);
