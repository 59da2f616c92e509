/** Audio helpers for the bridge: a low-pass decimator to 8 kHz, and small measurement functions for tests. */

/**
 * Converts PCM at any rate to 8 kHz with a windowed-sinc low-pass (cut-off 3.6 kHz) and decimation, keeping its
 * history across frames so frame edges do not click. Integer ratios (16, 24, 32, 48 kHz) are exact; other rates
 * use linear interpolation after the filter. A changing input rate (wrtc starts at 16 kHz, then 48 kHz) resets it.
 */
export class Downsampler {
  private rate = 0;
  private taps = new Float32Array(0);
  private history = new Float32Array(0);
  private pos = 0; // position of the next output sample, in input samples, relative to the current frame start

  process(input: Int16Array, inRate: number, channels = 1): Int16Array {
    const mono = channels > 1 ? downmix(input, channels) : input;
    if (inRate === 8000) return mono;
    if (inRate !== this.rate) this.reset(inRate);
    const n = this.taps.length;
    // Work buffer: history (n - 1 samples) followed by this frame.
    const buf = new Float32Array(n - 1 + mono.length);
    buf.set(this.history);
    for (let i = 0; i < mono.length; i++) buf[n - 1 + i] = mono[i];
    const step = inRate / 8000;
    const out: number[] = [];
    let p = this.pos;
    while (p < mono.length) {
      const i0 = Math.floor(p);
      const frac = p - i0;
      let acc = this.fir(buf, i0);
      if (frac > 1e-9 && i0 + 1 < mono.length) acc += frac * (this.fir(buf, i0 + 1) - acc);
      out.push(acc);
      p += step;
    }
    this.pos = p - mono.length;
    this.history = buf.slice(buf.length - (n - 1));
    const res = new Int16Array(out.length);
    for (let i = 0; i < out.length; i++) res[i] = clamp16(out[i]);
    return res;
  }

  /** Filter output for input sample `i` of the current frame (buf is offset by the history length). */
  private fir(buf: Float32Array, i: number): number {
    const t = this.taps;
    let acc = 0;
    for (let k = 0; k < t.length; k++) acc += t[k] * buf[i + k];
    return acc;
  }

  private reset(inRate: number): void {
    this.rate = inRate;
    const factor = Math.max(1, Math.round(inRate / 8000));
    const n = 8 * factor + 1;
    const fc = 3600 / inRate;
    const taps = new Float32Array(n);
    let sum = 0;
    for (let k = 0; k < n; k++) {
      const m = k - (n - 1) / 2;
      const sinc = m === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * m) / (Math.PI * m);
      const w = 0.54 - 0.46 * Math.cos((2 * Math.PI * k) / (n - 1));
      taps[k] = sinc * w;
      sum += taps[k];
    }
    for (let k = 0; k < n; k++) taps[k] /= sum;
    this.taps = taps;
    this.history = new Float32Array(n - 1);
    this.pos = 0;
  }
}

function downmix(input: Int16Array, channels: number): Int16Array {
  const out = new Int16Array(Math.floor(input.length / channels));
  for (let i = 0; i < out.length; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += input[i * channels + c];
    out[i] = s / channels;
  }
  return out;
}

export function clamp16(x: number): number {
  return x > 32767 ? 32767 : x < -32768 ? -32768 : Math.round(x);
}

/** Root-mean-square level, 0..1 of full scale. */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let s = 0;
  for (const x of samples) s += x * x;
  return Math.sqrt(s / samples.length) / 32768;
}

export { toneShare } from '../../media/analysis.js';

/** Reads a 16-bit PCM mono WAV (as written by sox) into samples and rate. */
export function readWav(buf: Buffer): { samples: Int16Array; sampleRate: number } {
  if (buf.toString('ascii', 0, 4) !== 'RIFF' || buf.toString('ascii', 8, 12) !== 'WAVE') throw new Error('not a WAV file');
  let off = 12;
  let rate = 0, bits = 0, channels = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('ascii', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') {
      channels = buf.readUInt16LE(off + 10);
      rate = buf.readUInt32LE(off + 12);
      bits = buf.readUInt16LE(off + 22);
    } else if (id === 'data') {
      if (bits !== 16 || channels !== 1) throw new Error('the WAV must be 16-bit mono');
      // A file still being written may say 0 (or more than there is): take what is there.
      const available = buf.length - off - 8;
      const n = Math.floor((size === 0 || size > available ? available : size) / 2);
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = buf.readInt16LE(off + 8 + 2 * i);
      return { samples, sampleRate: rate };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error('WAV without data');
}
