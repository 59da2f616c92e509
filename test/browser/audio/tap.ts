// A tap on Howler's master output: what the SDK really plays, as Web Audio sees it.
import { Howler } from 'howler';
import type { AudioController } from '../../../src/core/index.js';
import { fftPeaks } from './analysis.js';

export interface Tap {
  readonly analyser: AnalyserNode;
  /** RMS of the last `fftSize` samples of the master output. */
  level(): number;
  /** Strongest spectral peaks now. */
  peaks(count?: number, minSeparation?: number): Array<{ freq: number; db: number }>;
  /** Highest level (dB) of the spectrum within ±`width` Hz of any of `freqs`. */
  band(freqs: readonly number[], width?: number): number;
  /** Resolves once `predicate` holds on a sample of the tap (polled every `every` ms), or rejects after `ms`. */
  until(predicate: (tap: Tap) => boolean, ms?: number, what?: string, every?: number): Promise<void>;
  /** Rejects if `predicate` fails on any sample within `ms`. */
  holds(predicate: (tap: Tap) => boolean, ms: number, what: string): Promise<void>;
  close(): void;
}

/** Silence: below this RMS (about -80 dBFS) nothing audible comes out. */
export const SILENT = 1e-4;
/** A band is "sounding" above this many dB (a tone at -16 dBFS shows near -30 dB in Chromium's analyser). */
export const BAND_ON_DB = -60;

/**
 * Connects an AnalyserNode to `Howler.masterGain`. Call after the controller has made its first Howl
 * (`preload()`), because Howler replaces its AudioContext once, when the first Howl is created.
 */
export async function tapMaster(controller: AudioController, fftSize = 16384): Promise<Tap> {
  await controller.preload();
  const ctx = Howler.ctx;
  const analyser = ctx.createAnalyser();
  analyser.fftSize = fftSize;
  analyser.smoothingTimeConstant = 0;
  Howler.masterGain.connect(analyser);
  const time = new Float32Array(fftSize);
  const freq = new Float32Array(fftSize / 2);
  const tap: Tap = {
    analyser,
    level() {
      analyser.getFloatTimeDomainData(time);
      let sum = 0;
      for (const v of time) sum += v * v;
      return Math.sqrt(sum / time.length);
    },
    peaks(count = 2, minSeparation = 25) {
      analyser.getFloatFrequencyData(freq);
      return fftPeaks(freq, ctx.sampleRate, fftSize, { count, minSeparation });
    },
    band(freqs, width = 6) {
      analyser.getFloatFrequencyData(freq);
      const bin = ctx.sampleRate / fftSize;
      let best = -Infinity;
      for (const f of freqs) {
        for (let i = Math.floor((f - width) / bin); i <= Math.ceil((f + width) / bin); i++) best = Math.max(best, freq[i] ?? -Infinity);
      }
      return best;
    },
    async until(predicate, ms = 8000, what = 'sound', every = 20) {
      const end = performance.now() + ms;
      while (!predicate(tap)) {
        if (performance.now() > end) throw new Error(`tap: timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, every));
      }
    },
    async holds(predicate, ms, what) {
      const end = performance.now() + ms;
      while (performance.now() < end) {
        if (!predicate(tap)) throw new Error(`tap: ${what} did not hold`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close() {
      Howler.masterGain.disconnect(analyser);
    },
  };
  return tap;
}

/** The frequencies of peaks, rounded to whole Hz and sorted, for comparing with a tone plan. */
export function freqsOf(peaks: Array<{ freq: number }>): number[] {
  return peaks.map((p) => Math.round(p.freq)).sort((a, b) => a - b);
}

/** True when every expected frequency has a measured peak within `tolerance` Hz. */
export function matches(measured: number[], expected: readonly number[], tolerance = 4): boolean {
  return measured.length === expected.length && expected.every((f) => measured.some((m) => Math.abs(m - f) <= tolerance));
}
