// Helpers for browser tests: the run's calling server, real clients, a second real page, media checks.
import { executeServerCommand } from '@web/test-runner-commands';
import { CallClient, CallingError, type CallClientOptions } from '../../src/core/index.js';

let serverUrl: Promise<string> | undefined;
/** URL of the calling server the test setup started for this run. */
export function callingServer(): Promise<string> {
  serverUrl ??= fetch('/__calling-config').then((r) => r.json()).then((c: { server: string }) => c.server);
  return serverUrl;
}

let seq = 0;
/** A user id unique to this run, so tests never collide on the shared server. */
export function uniqueUser(name: string): string {
  return `${name}-${Date.now().toString(36)}-${(seq++).toString(36)}`;
}

/**
 * A token source for `userId` from the run's test server: a fresh signalling token per connect. `variant` asks for
 * a bad one (auth tests): `forged`, `expired`, `other-subject`, `user-style` (for a reserved id).
 */
export function tokenFor(userId: string, query: Record<string, string> = {}): () => Promise<string> {
  return async () => {
    const res = await fetch(`/__calling-token?${new URLSearchParams({ userId, ...query })}`);
    if (!res.ok) throw new Error(`token request failed: ${res.status}`);
    return ((await res.json()) as { token: string }).token;
  };
}

const started: CallClient[] = [];
/** A started client with calling enabled (with a token from the test server). Stopped by `stopClients()`. */
export async function startClient(userId: string, options: Partial<CallClientOptions> = {}): Promise<CallClient> {
  const client = new CallClient({ userId, server: await callingServer(), token: tokenFor(userId), ...options });
  client.setSupportCalling(true);
  await client.start();
  started.push(client);
  return client;
}
/** Starts a client that must be refused; resolves with the typed error it was refused with. */
export async function startRefused(client: CallClient): Promise<CallingError> {
  client.setSupportCalling(true);
  try {
    await client.start();
  } catch (e) {
    if (e instanceof CallingError) return e;
    throw e;
  }
  throw new Error(`${client.userId} was not refused`);
}
export async function stopClients(): Promise<void> {
  await Promise.all(started.splice(0).map((c) => c.stop()));
}

/** Resolves with the next `type` event of `target`, or rejects after `ms`. */
export function nextEvent<E extends Event = Event>(target: EventTarget, type: string, ms = 10_000): Promise<E> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no "${type}" event within ${ms} ms`)), ms);
    target.addEventListener(type, (e) => {
      clearTimeout(timer);
      resolve(e as E);
    }, { once: true });
  });
}

/** Polls `predicate` until it is true, or rejects after `ms`. */
export async function waitFor(predicate: () => boolean | Promise<boolean>, ms = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Records a target's events in order, e.g. `['progressing', 'ringing', 'established', 'ended']`. */
export function recordEvents(target: EventTarget, types: string[]): string[] {
  const log: string[] = [];
  for (const t of types) target.addEventListener(t, () => log.push(t));
  return log;
}

/**
 * Peak level (0..1) and dominant frequency of a stream over `ms`, measured from what Web Audio actually receives.
 * Chromium feeds a remote WebRTC stream into Web Audio only while a media element plays it too, so a muted <audio>
 * plays it. (A 4096-sample window polled every 50 ms sees every sample.)
 */
export async function listenTo(stream: MediaStream, ms = 1500): Promise<{ peak: number; dominantHz: number }> {
  const audio = new Audio();
  audio.muted = true;
  audio.srcObject = stream;
  await audio.play().catch(() => undefined);
  const ctx = new AudioContext();
  await ctx.resume();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 4096;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const time = new Float32Array(analyser.fftSize);
  const freq = new Float32Array(analyser.frequencyBinCount);
  const sums = new Float64Array(analyser.frequencyBinCount);
  let peak = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    analyser.getFloatTimeDomainData(time);
    for (const v of time) peak = Math.max(peak, Math.abs(v));
    analyser.getFloatFrequencyData(freq);
    for (let i = 0; i < freq.length; i++) sums[i] += 10 ** (freq[i] / 10);
    await new Promise((r) => setTimeout(r, 50));
  }
  let best = 1;
  for (let i = 2; i < sums.length; i++) if (sums[i] > sums[best]) best = i;
  const dominantHz = (best * ctx.sampleRate) / analyser.fftSize;
  await ctx.close();
  audio.srcObject = null;
  return { peak, dominantHz };
}

/** A sine at `freq` Hz (amplitude `amp`) made in `ctx`, as a stream: a microphone whose sound a test can recognise. */
export function toneStream(ctx: AudioContext, freq: number, amp: number): MediaStream {
  const osc = ctx.createOscillator();
  osc.frequency.value = freq;
  const gain = ctx.createGain();
  gain.gain.value = amp;
  const dest = ctx.createMediaStreamDestination();
  osc.connect(gain).connect(dest);
  osc.start();
  return dest.stream;
}

/** Peak audio level (0..1) of a stream over `ms` (see `listenTo`). */
export async function peakAudioLevel(stream: MediaStream, ms = 1500): Promise<number> {
  return (await listenTo(stream, ms)).peak;
}

let toneCtx: AudioContext | undefined;
/** A `getUserMedia` stand-in: a steady sine at `freq` (amplitude 0.3) as the microphone (the fake one only beeps). */
export function toneMic(freq: number): () => Promise<MediaStream> {
  return async () => {
    toneCtx ??= new AudioContext();
    await toneCtx.resume();
    return toneStream(toneCtx, freq, 0.3);
  };
}

/** Waits until a video track renders real frames (non-zero size) in a <video> element. */
export async function videoRenders(stream: MediaStream, ms = 5000): Promise<{ width: number; height: number }> {
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  await video.play().catch(() => undefined);
  await waitFor(() => video.videoWidth > 0, ms, 'video frames');
  const size = { width: video.videoWidth, height: video.videoHeight };
  video.srcObject = null;
  return size;
}

/** A second, real browser tab running `fixtures/remote-peer.html`, driven by evaluating code in it. */
export class RemotePage {
  private constructor(readonly id: string) {}

  static async open(): Promise<RemotePage> {
    const id = await executeServerCommand<string, { path: string }>('open-page', { path: '/test/browser/fixtures/remote-peer.html' });
    const page = new RemotePage(id);
    await page.run('await window.remoteReady; return true;');
    return page;
  }

  /** Runs an async function body in the page (`remote` is the page's driver object) and returns its JSON result. */
  run<T = unknown>(body: string): Promise<T> {
    return executeServerCommand<T, { id: string; body: string }>('page-eval', { id: this.id, body });
  }

  /** Closes the tab as a user would: no beforeunload prompt; pagehide handlers run. */
  close(): Promise<unknown> {
    return executeServerCommand('close-page', { id: this.id });
  }
}
