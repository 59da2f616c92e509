// Audio benchmarks in real Chromium against a real calling server on 127.0.0.1; prints JSON.
//   1. callee's `incomingcall` → the ringtone actually sounding at Howler's master output (goal ≤ 50 ms);
//   2. Howl instances and JS heap over 100 call cycles with automatic tones on both sides (goal: constant).
// `node --import tsx bench/audio.ts` runs it alone; `runAudioBench()` is for bench/run.ts.
// BENCH_RING_CALLS / BENCH_AUDIO_CYCLES change the counts (defaults 20 / 100).
import { build } from 'esbuild';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { browserAliases } from '../scripts/aliases.mjs';
import { startCallingServer } from '../src/server/calling-server.js';
import { phase, within } from './deadline.js';

// What the page gets: the SDK, Howler (for the tap on its master output) and the benchmarks' deadlines.
const PAGE_ENTRY = `
  export * as sdk from './src/core/index.ts';
  export { Howler } from 'howler';
  export * as deadline from './bench/deadline.ts';
`;

/** The two phases, each run (and reported) on its own: one failing leaves the other's figures. */
interface PageApi {
  ringtone(ringCalls: number): Promise<object>;
  callCycles(cycles: number): Promise<object>;
}

/** Runs both audio benchmarks and returns their figures. */
export async function runAudioBench(options: { ringCalls?: number; cycles?: number } = {}): Promise<object> {
  const ringCalls = options.ringCalls ?? Number(process.env.BENCH_RING_CALLS ?? 20);
  const cycles = options.cycles ?? Number(process.env.BENCH_AUDIO_CYCLES ?? 100);
  const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
  const lib = await build({
    stdin: { contents: PAGE_ENTRY, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true, format: 'esm', write: false, minify: true, logLevel: 'silent', alias: browserAliases,
  });
  // esbuild's ESM output ends with an export statement; the page needs the bindings as globals instead.
  const exportsMatch = /export\s*\{([^}]*)\};?/.exec(lib.outputFiles[0]!.text);
  const globals = (exportsMatch?.[1] ?? '').split(',').map((s) => s.trim()).filter(Boolean)
    .map((spec) => { const [local, exported] = spec.split(/\s+as\s+/); return `window.${exported ?? local} = ${local};`; }).join('\n');
  // pageMain is sent as source text; tsx may wrap functions in esbuild's __name helper, so the page gets one too.
  const pageJs = `${lib.outputFiles[0]!.text.replace(/export\s*\{[^}]*\};?/, globals)}
;var __name = (f) => f;
window.benchAudio = (${pageMain.toString()})();`;
  server.app.get('/bench-audio/page.js', (_req, res) => { res.type('js').send(pageJs); });
  server.app.get('/bench-audio/', (_req, res) => {
    res.type('html').send(`<!doctype html><title>audio bench</title><script>window.BENCH=${JSON.stringify({ server: server.url })}</script><script src="/bench-audio/page.js"></script>`);
  });
  const tokens = new Map<string, string>();
  server.app.get('/bench-audio/token', (req, res) => {
    const id = String(req.query.userId ?? '');
    void server.mintToken(id).then((t) => { tokens.set(id, t); res.json({ token: t }); }, (e: unknown) => res.status(400).json({ error: String(e) }));
  });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--autoplay-policy=no-user-gesture-required',
      '--js-flags=--expose-gc'],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${server.url}/bench-audio/`, { timeout: 20_000 });
    await page.waitForFunction(() => 'benchAudio' in window, null, { timeout: 20_000 });
    // Each phase has its own deadline beyond the page's own for each wait (a page that stops answering).
    const ringtoneLatencyMs = await phase('ringtone', 60_000 + ringCalls * 5000,
      () => page.evaluate((n) => (window as unknown as { benchAudio: PageApi }).benchAudio.ringtone(n), ringCalls));
    const callCycles = await phase('callCycles', 120_000 + cycles * 2 * 3000,
      () => page.evaluate((n) => (window as unknown as { benchAudio: PageApi }).benchAudio.callCycles(n), cycles));
    return { ringtoneLatencyMs, callCycles };
  } finally {
    await within(browser.close(), 20_000, 'browser close').catch((e: unknown) => console.error(String(e)));
    await within(server.close(), 20_000, 'server close').catch((e: unknown) => console.error(String(e)));
  }
}

/** Runs in the page (serialised with toString: self-contained, globals only). */
function pageMain(): PageApi {
  type Sdk = typeof import('../src/core/index.js');
  type HowlerType = typeof import('howler').Howler;
  type Deadline = typeof import('./deadline.js');
  const w = window as unknown as { sdk: Sdk; Howler: HowlerType; deadline: Deadline; BENCH: { server: string }; gc?: () => void };
  const { sdk, Howler } = w;
  const { within } = w.deadline;
  let seq = 0;
  const uid = (p: string) => `${p}-${Date.now().toString(36)}-${seq++}`;
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const token = async (userId: string) => {
    const res = await fetch(`/bench-audio/token?userId=${encodeURIComponent(userId)}`, { signal: AbortSignal.timeout(5000) });
    return ((await res.json()) as { token: string }).token;
  };
  const once = (target: EventTarget, type: string, ms = 15_000) => w.deadline.once(target, type, ms) as Promise<Event>;
  const stop = (...clients: Array<InstanceType<Sdk['CallClient']>>) => within(Promise.all(clients.map((c) => c.stop())), 10_000, 'clients stop');
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const at = (p: number) => Math.round(s[Math.min(s.length - 1, Math.floor(s.length * p))]! * 10) / 10;
    return { n: s.length, median: at(0.5), p95: at(0.95), max: at(1) };
  };
  async function client(name: string, audio: false | object): Promise<InstanceType<Sdk['CallClient']>> {
    const userId = uid(name);
    const c = new sdk.CallClient({ userId, server: w.BENCH.server, token: () => token(userId), audio: audio as false });
    c.setSupportCalling(true);
    await within(c.start(), 15_000, `${userId} start`);
    return c;
  }
  const howlerHowls = () => (Howler as unknown as { _howls: unknown[] })._howls.length;
  const heap = () => {
    w.gc?.();
    return (performance as unknown as { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize ?? NaN;
  };

  /**
   * When the master output first carries sound, on the page's clock: `seen` is when the page first finds it in the
   * analyser (the audio thread renders ahead, so the sound is in the graph by then), `speaker` is when that first
   * sample leaves the output device (getOutputTimestamp maps context time to the page's clock, output latency
   * included).
   */
  async function onset(analyser: AnalyserNode, ms = 3000): Promise<{ seen: number; speaker: number }> {
    const ctx = analyser.context as AudioContext;
    const buf = new Float32Array(analyser.fftSize);
    const end = performance.now() + ms;
    const tick = () => new Promise<void>((r) => { const ch = new MessageChannel(); ch.port1.onmessage = () => r(); ch.port2.postMessage(0); });
    while (performance.now() < end) {
      analyser.getFloatTimeDomainData(buf);
      const i = buf.findIndex((v) => Math.abs(v) > 1e-3);
      if (i >= 0) {
        // The buffer ends at the context's current time: map the first loud sample to the page's clock.
        const seen = performance.now();
        const ts = ctx.getOutputTimestamp();
        const sampleTime = ctx.currentTime - (buf.length - i) / ctx.sampleRate;
        return { seen, speaker: ts.performanceTime! + (sampleTime - ts.contextTime!) * 1000 };
      }
      await tick();
    }
    throw new Error('no sound');
  }

  return {
    async ringtone(ringCalls) {
      // 1. incomingcall → ringtone audible.
      const caller = await client('caller', false);
      const callee = await client('callee', {});
      await within(callee.audioController.preload(), 15_000, 'tone preload');
      const ctx = Howler.ctx;
      const analyser = ctx.createAnalyser();
      analyser.fftSize = 2048;
      Howler.masterGain.connect(analyser);
      const seen: number[] = [];
      const speaker: number[] = [];
      for (let i = 0; i < ringCalls; i++) {
        const incoming = once(callee, 'incomingcall');
        const out = caller.callUser(callee.userId);
        const e = await incoming;
        const heard = await onset(analyser);
        seen.push(heard.seen - e.timeStamp);
        speaker.push(heard.speaker - e.timeStamp);
        const ended = once((e as unknown as { call: EventTarget }).call, 'ended');
        out.hangup();
        await ended;
        await sleep(150); // the analyser window (43 ms) must be silent again
      }
      Howler.masterGain.disconnect(analyser);
      await stop(caller, callee);
      return {
        goal: 50,
        what: "callee's incomingcall event → first ringtone sample at Howler's master output",
        inGraph: { ...stats(seen), what: 'when the page first sees the ringtone in the analyser (an upper bound: polled)' },
        atOutput: { ...stats(speaker), what: 'when its first sample leaves the output device (output latency included)' },
        outputLatencyMs: Math.round(((ctx.outputLatency || 0) + ctx.baseLatency) * 10000) / 10,
      };
    },

    async callCycles(cycles) {
      // 2. Howl instances and memory over full call cycles, automatic tones on both sides; the same cycles with
      //    audio off as a baseline, so the heap growth of the calls themselves is not charged to audio.
      const cyclesWith = async (audio: false | object) => {
        const a = await client('a', audio);
        const b = await client('b', audio);
        b.addEventListener('incomingcall', (e) => { setTimeout(() => e.call.answer(), 20); });
        const samples: Array<{ cycle: number; howlerHowls: number; controllerHowls: number; heapMB: number }> = [];
        const sample = (cycle: number) => samples.push({
          cycle, howlerHowls: howlerHowls(),
          controllerHowls: audio ? a.audioController.howlCount + b.audioController.howlCount : 0,
          heapMB: Math.round((heap() / 1048576) * 100) / 100,
        });
        const t0 = performance.now();
        for (let i = 1; i <= cycles; i++) {
          const call = a.callUser(b.userId);
          await once(call, 'established');
          const ended = once(call, 'ended');
          call.hangup();
          await ended;
          await sleep(30);
          if (i === 1 || i === 10 || i % 25 === 0) sample(i);
        }
        const seconds = Math.round((performance.now() - t0) / 100) / 10;
        await stop(a, b);
        const growthKBPerCycle = Math.round(((samples.at(-1)!.heapMB - samples[1]!.heapMB) * 1024 / (cycles - 10)) * 100) / 100;
        return { seconds, samples, growthKBPerCycle };
      };
      const baseline = await cyclesWith(false);
      const { seconds, samples, growthKBPerCycle } = await cyclesWith({});
      return {
        cycles, seconds, samples, growthKBPerCycle,
        baselineWithoutAudio: { growthKBPerCycle: baseline.growthKBPerCycle, heapMB: baseline.samples.map((x) => x.heapMB) },
        what: 'Howl instances (Howler-wide and in the two controllers) and JS heap after GC, full calls with tones on both sides; growth from cycle 10 on',
      };
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  console.log(JSON.stringify(await runAudioBench(), null, 2));
  process.exit(0);
}
