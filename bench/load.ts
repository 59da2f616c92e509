// The first-load figures of the one-script-tag embed, cold cache, over Chromium's "Fast 4G" network emulation
// (9 Mbit/s down, 1.5 up, 165 ms round trip, DevTools' preset), on 127.0.0.1:
// - script tag → the widget's launcher painted;
// - "Call" clicked in the widget's dialer → the invite leaving (the OFFER frame on the signalling socket), which
//   includes fetching whatever lazy chunk the call needs.
// The same page is measured with the split bundle (dist/calling-elements.js + chunks/, as `npm run build` makes it)
// and with everything in one file (the bundle before it was split), runs interleaved, medians and ratios reported.
import { build } from 'esbuild';
import express from 'express';
import { chromium, type Browser } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCallingServer } from '../src/server/calling-server.js';
import { bundleSizes } from '../scripts/bundle-sizes.mjs';
import { browserBundle, elementsBundle } from '../scripts/bundle-options.mjs';

const RUNS = Number(process.env.BENCH_LOAD_RUNS ?? 5);
const STEP_MS = 20_000;
const FAST_4G = { offline: false, latency: 165, downloadThroughput: (9_000_000 / 8) * 0.9, uploadThroughput: (1_500_000 / 8) * 0.9 };

interface Sample { launcherPaintedMs: number; callToInviteMs: number }
type Variant = 'split' | 'single';

export async function runLoadBench(): Promise<object> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-load-'));
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  let browser: Browser | undefined;
  const out: Record<string, unknown> = { network: 'Fast 4G (9 Mbit/s down, 1.5 up, 165 ms RTT)', runs: RUNS };
  try {
    const split = await build({ ...elementsBundle, outdir: join(dir, 'split'), logLevel: 'silent' });
    await build({ ...browserBundle, entryPoints: { 'calling-elements': 'src/index.ts' }, outdir: join(dir, 'single'), legalComments: 'none', logLevel: 'silent' });
    const sizes = bundleSizesIn(split.metafile!);
    out.firstLoadKbGz = sizes.firstLoad;
    out.totalKbGz = sizes.total;
    server.app.use('/bench-load', express.static(dir));
    server.app.get('/bench-load/:variant/page.html', (req, res) => {
      res.type('html').send(`<!doctype html><html lang="en"><title>load bench</title>
<script>
  // The launcher counts as painted in the first frame after it is in the widget's shadow tree.
  (function poll() {
    const b = document.querySelector('call-widget')?.shadowRoot?.querySelector('[part="launcher"]');
    if (b) requestAnimationFrame(() => { window.launcherPainted = performance.now(); });
    else requestAnimationFrame(poll);
  })();
</script>
<script type="module" src="/bench-load/${req.params.variant}/calling-elements.js"></script>
<call-widget server="${server.url}" user-id="caller${Math.floor(Math.random() * 1e9)}"></call-widget>`);
    });
    browser = await chromium.launch({
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required'],
    });
    // The callee: online with the single-file bundle, unthrottled (only the caller's page is measured).
    server.app.get('/bench-load/callee.html', (_req, res) => {
      res.type('html').send(`<!doctype html><title>callee</title><script type="module" src="/bench-load/single/calling-elements.js"></script>
<call-provider server="${server.url}" user-id="benchcallee"></call-provider>`);
    });
    const callee = await browser.newPage();
    await callee.goto(`${server.url}/bench-load/callee.html`);
    await callee.waitForFunction(() => document.querySelector('call-provider')?.getAttribute('connection-state') === 'connected', null, { timeout: STEP_MS });

    const samples: Record<Variant, Sample[]> = { split: [], single: [] };
    const errors: string[] = [];
    for (let i = 0; i < RUNS; i++) {
      for (const variant of ['split', 'single'] as const) {
        try {
          samples[variant].push(await measure(browser, `${server.url}/bench-load/${variant}/page.html`));
        } catch (err) {
          errors.push(`${variant} run ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    }
    for (const variant of ['split', 'single'] as const) {
      out[variant] = {
        launcherPaintedMs: median(samples[variant].map((s) => s.launcherPaintedMs)),
        callToInviteMs: median(samples[variant].map((s) => s.callToInviteMs)),
        samples: samples[variant].length,
      };
    }
    const ratio = (key: keyof Sample) => {
      const a = (out.split as Record<string, number | null>)[key];
      const b = (out.single as Record<string, number | null>)[key];
      return a !== null && a !== undefined && b ? Math.round((a / b) * 100) / 100 : null;
    };
    out.ratioSplitVsSingle = { launcherPainted: ratio('launcherPaintedMs'), callToInvite: ratio('callToInviteMs') };
    if (errors.length) out.errors = errors;
    return out;
  } catch (err) {
    // What was measured stays in the report, next to the error of the phase that failed.
    return { ...out, error: err instanceof Error ? err.message : String(err) };
  } finally {
    await browser?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One cold load (a new browser context: empty cache) of the widget page, throttled, then one call placed from it. */
async function measure(browser: Browser, url: string): Promise<Sample> {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', FAST_4G);
    let inviteAt = 0;
    const inviteSent = new Promise<void>((resolve) => {
      page.on('websocket', (ws) => ws.on('framesent', (f) => {
        if (!inviteAt && typeof f.payload === 'string' && f.payload.includes('"OFFER"')) {
          inviteAt = performance.now();
          resolve();
        }
      }));
    });
    await page.goto(url, { waitUntil: 'commit', timeout: STEP_MS });
    await page.waitForFunction(() => (window as unknown as { launcherPainted?: number }).launcherPainted, null, { timeout: STEP_MS });
    const launcherPaintedMs = await page.evaluate(() => (window as unknown as { launcherPainted: number }).launcherPainted);
    // Wait until the widget is online (as a user does before dialing), then open it and call the callee.
    await page.waitForFunction(() => document.querySelector('call-widget')?.shadowRoot?.querySelector('call-provider')?.getAttribute('connection-state') === 'connected', null, { timeout: STEP_MS });
    const widget = page.locator('call-widget');
    await widget.locator('[part="launcher"]').click({ timeout: STEP_MS });
    await widget.locator('call-dialer [part="input"]').fill('benchcallee', { timeout: STEP_MS });
    const clickedAt = performance.now();
    await widget.locator('call-dialer [part="call-button"]').click({ timeout: STEP_MS });
    await Promise.race([inviteSent, new Promise((_, reject) => setTimeout(() => reject(new Error('no invite left within 20 s')), STEP_MS))]);
    return { launcherPaintedMs: round(launcherPaintedMs), callToInviteMs: round(inviteAt - clickedAt) };
  } finally {
    await context.close();
  }
}

function bundleSizesIn(metafile: import('esbuild').Metafile): { firstLoad: number; total: number } {
  const entry = Object.keys(metafile.outputs).find((f) => f.endsWith('/calling-elements.js'))!;
  const { firstLoad, total } = bundleSizes(metafile, entry);
  return { firstLoad: Math.round((firstLoad.gzip / 1024) * 10) / 10, total: Math.round((total.gzip / 1024) * 10) / 10 };
}

function median(xs: number[]): number | null {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number) => Math.round(x * 10) / 10;
