/**
 * The conference mixer: pure arithmetic, no WebRTC. 48 kHz mono, 10 ms frames (480 samples).
 *
 * - **Input buffering**: each participant's PCM is resampled to 48 kHz (linear; `RTCAudioSink` may deliver another
 *   rate, e.g. 16 kHz for the first frames of an Opus leg), cut into 10 ms frames and queued in a ring of
 *   preallocated frames. Playout starts once `minBufferFrames` are queued (20 ms); after each tick the queue is
 *   trimmed to `maxBufferFrames` (60 ms) by dropping the oldest frames, so a fast sender cannot grow latency.
 *   Between ticks an input may hold `burstFrames` more, so the frames that arrived during a stalled event loop wait
 *   for the clock's catch-up ticks instead of being dropped. An empty queue is an underrun: that participant is
 *   silent for the tick and re-primes.
 * - **No allocation per frame**: input frames, the sum, and each participant's output are reused.
 * - **Mix-minus**: every tick sums all unmuted participants once, then each participant gets `sum - own`: everyone
 *   else, never their own voice.
 * - **Limiter before Int16**: each output has its own gain; a frame whose peak would pass the threshold gets the gain
 *   that brings it to the threshold at once (no overshoot), and the gain recovers towards 1 smoothly (ramped across
 *   the frame, no clicks). A final clamp guards the Int16 range.
 * - **Speaking**: from each input frame's RMS energy (dBFS), with hysteresis: on after `speakingOnFrames` frames
 *   above `speakingOnDb`, off after `speakingHangFrames` frames below `speakingOffDb`. A muted participant is never
 *   speaking.
 */

export const MIX_RATE = 48_000;
export const FRAME_SAMPLES = 480;
const FULL_SCALE = 32768;

export interface MixerOptions {
  /** Frames queued before a participant's audio starts playing out. Default 2 (20 ms). */
  minBufferFrames?: number;
  /** Most frames queued after a tick; older ones are dropped. Default 6 (60 ms). */
  maxBufferFrames?: number;
  /**
   * Frames an input may hold above `maxBufferFrames` between ticks: after a stalled event loop the inputs that
   * arrived meanwhile are queued first and the clock's catch-up ticks take them, so a stall shorter than this loses
   * nothing. Default 25 (250 ms).
   */
  burstFrames?: number;
  /** Peak level the limiter holds outputs to (0..1 of full scale). Default 0.9. */
  limiterThreshold?: number;
  /** How fast the limiter's gain recovers: the share of the distance to 1 closed per frame. Default 0.02 (≈ 0.5 s). */
  limiterRelease?: number;
  /** Level (dBFS) above which a participant starts speaking. Default -45. */
  speakingOnDb?: number;
  /** Level (dBFS) below which a participant may stop speaking. Default -52. */
  speakingOffDb?: number;
  /** Frames above `speakingOnDb` before `speaking` turns on. Default 3 (30 ms). */
  speakingOnFrames?: number;
  /** Frames below `speakingOffDb` before `speaking` turns off. Default 40 (400 ms). */
  speakingHangFrames?: number;
}

interface Input {
  id: string;
  /** Ring of preallocated frames: `count` queued from `head`. */
  ring: Float32Array[];
  head: number;
  count: number;
  /** The frame being filled (samples not yet making a whole frame). */
  pendingLength: number;
  /** Last input sample, for resampling across frame boundaries. */
  last: number;
  primed: boolean;
  muted: boolean;
  speaking: boolean;
  above: number;
  below: number;
  /** Level of the last frame, dBFS (−Infinity for silence). */
  levelDb: number;
  gain: number;
  /** This tick's frame, or null (silent / underrun / muted). */
  current: Float32Array | null;
  /** This participant's output, reused every tick. */
  out: Int16Array;
  underruns: number;
  dropped: number;
}

/** Counters for tests and the benchmark. */
export interface MixerStats {
  underruns: number;
  dropped: number;
  queued: number;
}

export class Mixer {
  private readonly inputs = new Map<string, Input>();
  private readonly sum = new Float32Array(FRAME_SAMPLES);
  private readonly mix = new Float32Array(FRAME_SAMPLES);
  private readonly outputs = new Map<string, Int16Array>();
  private readonly opts: Required<MixerOptions>;
  /** Called when a participant's `speaking` flag flips (during `tick()`). */
  onSpeaking: ((id: string, speaking: boolean) => void) | undefined;

  constructor(options: MixerOptions = {}) {
    this.opts = {
      minBufferFrames: options.minBufferFrames ?? 2,
      maxBufferFrames: options.maxBufferFrames ?? 6,
      burstFrames: options.burstFrames ?? 25,
      limiterThreshold: options.limiterThreshold ?? 0.9,
      limiterRelease: options.limiterRelease ?? 0.02,
      speakingOnDb: options.speakingOnDb ?? -45,
      speakingOffDb: options.speakingOffDb ?? -52,
      speakingOnFrames: options.speakingOnFrames ?? 3,
      speakingHangFrames: options.speakingHangFrames ?? 40,
    };
    if (this.opts.maxBufferFrames < this.opts.minBufferFrames) throw new RangeError('maxBufferFrames must be ≥ minBufferFrames');
  }

  get size(): number { return this.inputs.size; }
  has(id: string): boolean { return this.inputs.has(id); }
  ids(): string[] { return [...this.inputs.keys()]; }

  add(id: string): void {
    if (this.inputs.has(id)) return;
    // One frame more than the queue may hold: the frame being filled.
    const slots = this.opts.maxBufferFrames + this.opts.burstFrames + 1;
    this.inputs.set(id, {
      id, ring: Array.from({ length: slots }, () => new Float32Array(FRAME_SAMPLES)), head: 0, count: 0, pendingLength: 0,
      last: 0, primed: false, muted: false, speaking: false, above: 0, below: 0, levelDb: -Infinity, gain: 1, current: null,
      out: new Int16Array(FRAME_SAMPLES), underruns: 0, dropped: 0,
    });
  }

  remove(id: string): void {
    this.inputs.delete(id);
    this.outputs.delete(id);
  }

  setMuted(id: string, muted: boolean): void {
    const input = this.inputs.get(id);
    if (!input || input.muted === muted) return;
    input.muted = muted;
    if (muted) {
      input.count = 0;
      input.pendingLength = 0;
      input.primed = false;
      this.setSpeaking(id, input, false);
    }
  }

  isSpeaking(id: string): boolean { return this.inputs.get(id)?.speaking ?? false; }
  levelDb(id: string): number { return this.inputs.get(id)?.levelDb ?? -Infinity; }

  stats(id: string): MixerStats | undefined {
    const i = this.inputs.get(id);
    return i && { underruns: i.underruns, dropped: i.dropped, queued: i.count };
  }

  /** Underruns and dropped frames summed over the current inputs. */
  totals(): { underruns: number; dropped: number } {
    let underruns = 0, dropped = 0;
    for (const i of this.inputs.values()) {
      underruns += i.underruns;
      dropped += i.dropped;
    }
    return { underruns, dropped };
  }

  /**
   * Queues a participant's PCM (any length, any rate; resampled to 48 kHz). Unknown or muted ids are ignored.
   * At most `maxBufferFrames + burstFrames` frames are held (older ones are dropped); `tick()` trims to
   * `maxBufferFrames`.
   */
  push(id: string, samples: Int16Array, sampleRate: number): void {
    const input = this.inputs.get(id);
    if (!input || input.muted || samples.length === 0 || !(sampleRate > 0)) return;
    const slots = input.ring.length;
    const hold = slots - 1;
    if (sampleRate === MIX_RATE) {
      // The common case: straight into the frame being filled, no intermediate array.
      let offset = 0;
      while (offset < samples.length) {
        const frame = input.ring[(input.head + input.count) % slots]!;
        const take = Math.min(FRAME_SAMPLES - input.pendingLength, samples.length - offset);
        for (let i = 0, j = input.pendingLength; i < take; i++, j++) frame[j] = samples[offset + i]!;
        input.pendingLength += take;
        offset += take;
        if (input.pendingLength === FRAME_SAMPLES) this.commit(input, hold);
      }
    } else {
      // Another rate (16 kHz from a G.722 leg, or the first frames of an Opus one): resampled as `resample()` does,
      // straight into the frames being filled, no intermediate array.
      const n = resampledLength(samples.length, sampleRate);
      const step = sampleRate / MIX_RATE;
      let frame = input.ring[(input.head + input.count) % slots]!;
      for (let i = 0; i < n; i++) {
        frame[input.pendingLength++] = interpolate(samples, step, i, input.last);
        if (input.pendingLength === FRAME_SAMPLES) {
          this.commit(input, hold);
          frame = input.ring[(input.head + input.count) % slots]!;
        }
      }
    }
    input.last = samples[samples.length - 1] ?? 0;
  }

  /** The frame being filled is complete: queue it (dropping the oldest when `hold` frames are queued). */
  private commit(input: Input, hold: number): void {
    input.pendingLength = 0;
    if (input.count === hold) {
      // Full: the oldest frame's slot becomes the next one to fill (it follows the queued ones in the ring).
      input.head = (input.head + 1) % input.ring.length;
      input.dropped++;
    } else {
      input.count++;
    }
  }

  /** Takes the oldest queued frame (its slot stays valid until `hold` more frames arrive). */
  private take(input: Input): Float32Array | undefined {
    if (input.count === 0) return undefined;
    const frame = input.ring[input.head]!;
    input.head = (input.head + 1) % input.ring.length;
    input.count--;
    return frame;
  }

  /**
   * One 10 ms tick: takes a frame from every primed input, updates speaking, and returns each participant's
   * mix-minus output as Int16 PCM at 48 kHz (480 samples). The map and its arrays are reused: they are valid until
   * the next tick (copy what you keep). `trim: false` (the first ticks of a catch-up burst) leaves queues above
   * `maxBufferFrames` for the ticks that follow.
   */
  tick(trim = true): Map<string, Int16Array> {
    const sum = this.sum;
    sum.fill(0);
    const { minBufferFrames, maxBufferFrames } = this.opts;
    for (const input of this.inputs.values()) {
      input.current = null;
      if (!input.primed && input.count >= minBufferFrames) input.primed = true;
      if (input.primed) {
        const frame = this.take(input);
        if (frame) input.current = frame;
        else {
          input.primed = false;
          input.underruns++;
        }
      }
      if (trim) {
        while (input.count > maxBufferFrames) {
          this.take(input);
          input.dropped++;
        }
      }
      const level = input.current ? frameDb(input.current) : -Infinity;
      input.levelDb = level;
      this.detectSpeaking(input.id, input, level);
      if (input.current && !input.muted) {
        const f = input.current;
        for (let i = 0; i < FRAME_SAMPLES; i++) sum[i]! += f[i]!;
      } else {
        input.current = null;
      }
    }
    const out = this.outputs;
    const threshold = this.opts.limiterThreshold * (FULL_SCALE - 1);
    const mix = this.mix;
    for (const input of this.inputs.values()) {
      // Everyone else = the total minus this participant's own frame.
      const own = input.current;
      let peak = 0;
      if (own) {
        for (let i = 0; i < FRAME_SAMPLES; i++) {
          const v = sum[i]! - own[i]!;
          mix[i] = v;
          const a = v < 0 ? -v : v;
          if (a > peak) peak = a;
        }
      } else {
        for (let i = 0; i < FRAME_SAMPLES; i++) {
          const v = sum[i]!;
          mix[i] = v;
          const a = v < 0 ? -v : v;
          if (a > peak) peak = a;
        }
      }
      this.limit(input, mix, peak, threshold);
      out.set(input.id, input.out);
    }
    return out;
  }

  private limit(input: Input, mix: Float32Array, peak: number, threshold: number): void {
    const result = input.out;
    const from = input.gain;
    const needed = peak * from > threshold ? threshold / peak : 1;
    let to: number;
    if (needed < from) to = needed; // attack: the whole frame at the lower gain, no overshoot
    else to = Math.min(1, from + (1 - from) * this.opts.limiterRelease, peak > 0 ? threshold / peak : 1);
    input.gain = to;
    if (to < from || to === from) {
      // Constant gain across the frame (attack, or steady unity gain: the common case).
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        let v = Math.round(mix[i]! * to);
        if (v > 32767) v = 32767;
        else if (v < -32768) v = -32768;
        result[i] = v;
      }
      return;
    }
    const step = (to - from) / FRAME_SAMPLES;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      let v = Math.round(mix[i]! * (from + step * (i + 1)));
      if (v > 32767) v = 32767;
      else if (v < -32768) v = -32768;
      result[i] = v;
    }
  }

  private detectSpeaking(id: string, input: Input, level: number): void {
    if (input.muted) {
      this.setSpeaking(id, input, false);
      return;
    }
    if (level > this.opts.speakingOnDb) {
      input.above++;
      input.below = 0;
      if (!input.speaking && input.above >= this.opts.speakingOnFrames) this.setSpeaking(id, input, true);
    } else {
      input.above = 0;
      if (level < this.opts.speakingOffDb) input.below++;
      if (input.speaking && input.below >= this.opts.speakingHangFrames) this.setSpeaking(id, input, false);
    }
  }

  private setSpeaking(id: string, input: Input, speaking: boolean): void {
    input.above = 0;
    input.below = 0;
    if (input.speaking === speaking) return;
    input.speaking = speaking;
    this.onSpeaking?.(id, speaking);
  }
}

/** Linear resampling to 48 kHz; `prev` is the sample before `samples[0]` (continuity across frames). */
export function resample(samples: Int16Array, rate: number, prev = 0): Float32Array {
  const out = new Float32Array(resampledLength(samples.length, rate));
  const step = rate / MIX_RATE;
  for (let i = 0; i < out.length; i++) out[i] = interpolate(samples, step, i, prev);
  return out;
}

/** How many 48 kHz samples `length` input samples at `rate` become. */
function resampledLength(length: number, rate: number): number {
  return Math.round((length * MIX_RATE) / rate);
}

/** Output sample `i` of the linear resampling by `step` (input rate / 48 kHz); `prev` precedes `samples[0]`. */
function interpolate(samples: Int16Array, step: number, i: number, prev: number): number {
  // Position in input samples, where −1 is `prev`: output i covers input time (i + 1) · step − 1.
  const pos = (i + 1) * step - 1;
  const k = Math.floor(pos);
  const frac = pos - k;
  const a = k < 0 ? prev : samples[k]!;
  const b = samples[Math.min(k + 1, samples.length - 1)]!;
  return a + (b - a) * frac;
}

/** RMS level of a frame in dBFS (−Infinity for digital silence). */
export function frameDb(frame: Float32Array | Int16Array): number {
  let e = 0;
  for (let i = 0; i < frame.length; i++) e += frame[i]! * frame[i]!;
  if (e === 0) return -Infinity;
  return 20 * Math.log10(Math.sqrt(e / frame.length) / FULL_SCALE);
}

export { toneShare } from '../media/analysis.js';

/**
 * Goertzel amplitude of `freq` in `samples` (a sine of amplitude A at `freq` gives ≈ A), independent of what else
 * is in the signal.
 */
export function toneAmplitude(samples: ArrayLike<number>, rate: number, freq: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0, s2 = 0;
  for (let i = 0; i < samples.length; i++) {
    const s0 = samples[i]! + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = Math.max(0, s1 * s1 + s2 * s2 - coeff * s1 * s2);
  return samples.length ? (2 * Math.sqrt(power)) / samples.length : 0;
}
