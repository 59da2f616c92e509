/**
 * The conference mixer: pure arithmetic, no WebRTC. Mono, 10 ms frames, at the room's rate (`sampleRate`: 16 kHz when
 * every leg is G.722 or G.711, so nothing is resampled on the way in or out; 48 kHz otherwise).
 *
 * - **Input buffering**: each participant's PCM is resampled to the mix rate (linear; only when it differs: an Opus
 *   leg's first frames arrive at 16 kHz, a G.711 leg's at 8 kHz), cut into 10 ms frames and queued in a ring of
 *   preallocated frames. Playout starts once `minBufferFrames` are queued (20 ms); after each tick the queue is
 *   trimmed to `maxBufferFrames` (60 ms) by dropping the oldest frames, so a fast sender cannot grow latency.
 *   Between ticks an input may hold `burstFrames` more, so the frames that arrived during a stalled event loop wait
 *   for the clock's catch-up ticks instead of being dropped. An empty queue is an underrun: that participant is
 *   silent for the tick and re-primes.
 * - **No allocation per frame**: input frames, the sum, and each participant's output are reused.
 * - **One mix for the listeners, mix-minus for the talkers** (`mode: 'shared'`, the default): only participants whose
 *   audio is above the mix gate are summed (a noise gate with hysteresis: open at once on a frame above `gateOnDb`,
 *   closed after `gateHangFrames` frames below `gateOffDb`). Everyone outside the sum gets the same output frame (the
 *   same `Int16Array`: `tick()`'s map holds `shared` for them), so the work per listener is zero; each participant in
 *   the sum gets `sum - own`. Exact by construction: whoever's audio is in the sum this tick gets their own
 *   mix-minus this tick, so nobody ever hears themself, whenever the gate flips. `mode: 'per-leg'` is the previous
 *   mixer: every unmuted participant is summed and everyone gets a mix-minus of their own.
 * - **Limiter before Int16**: each output has its own gain; a frame whose peak would pass the threshold gets the gain
 *   that brings it to the threshold at once (no overshoot), and the gain recovers towards 1 smoothly (ramped across
 *   the frame, no clicks). A final clamp guards the Int16 range. A participant joining the sum starts from the shared
 *   output's gain, so the switch from the shared mix to their own is seamless.
 * - **Speaking** (what the participant list shows): from each input frame's RMS energy (dBFS), with hysteresis: on
 *   after `speakingOnFrames` frames above `speakingOnDb`, off after `speakingHangFrames` frames below `speakingOffDb`.
 *   A muted participant is never speaking.
 */

/** The default mix rate (Opus legs, or a room with any leg that is not G.722 / G.711). */
export const MIX_RATE = 48_000;
/** Samples in a 10 ms frame at `MIX_RATE`. */
export const FRAME_SAMPLES = 480;
const FULL_SCALE = 32768;

/** `shared`: one mix for everyone outside the sum, mix-minus only for those in it. `per-leg`: a mix-minus for everyone. */
export type MixerMode = 'shared' | 'per-leg';
export const MIXER_MODES: readonly MixerMode[] = ['shared', 'per-leg'];
export function isMixerMode(x: unknown): x is MixerMode {
  return typeof x === 'string' && (MIXER_MODES as readonly string[]).includes(x);
}

export interface MixerOptions {
  /** Mix rate in Hz (a multiple of 100). Default `MIX_RATE` (48 kHz); `setRate()` changes it later. */
  sampleRate?: number;
  /** Default `shared` (see the module comment). */
  mode?: MixerMode;
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
  /** `shared` mode: a frame above this level (dBFS) puts its participant in the sum, that same tick. Default -50. */
  gateOnDb?: number;
  /** `shared` mode: level (dBFS) below which a participant may leave the sum. Default -58. */
  gateOffDb?: number;
  /** `shared` mode: frames below `gateOffDb` (or missing) before a participant leaves the sum. Default 50 (500 ms). */
  gateHangFrames?: number;
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
  /** In the sum (`shared` mode: the gate is open). */
  inSum: boolean;
  /** Frames in a row below `gateOffDb` while in the sum. */
  gateBelow: number;
  /** Level of the last frame, dBFS (−Infinity for silence). */
  levelDb: number;
  gain: number;
  /** This tick's frame, or null (silent / underrun / muted). */
  current: Float32Array | null;
  /** This participant's own output (mix-minus), reused every tick. */
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
  private _rate: number;
  private _frame: number;
  private sum: Float32Array;
  private mix: Float32Array;
  /** The output of everyone outside the sum (`shared` mode), with its own limiter gain. */
  private _shared: Int16Array;
  private sharedGain = 1;
  private readonly outputs = new Map<string, Int16Array>();
  private readonly opts: Required<Omit<MixerOptions, 'sampleRate'>>;
  /** Called when a participant's `speaking` flag flips (during `tick()`). */
  onSpeaking: ((id: string, speaking: boolean) => void) | undefined;

  constructor(options: MixerOptions = {}) {
    this.opts = {
      mode: options.mode ?? 'shared',
      minBufferFrames: options.minBufferFrames ?? 2,
      maxBufferFrames: options.maxBufferFrames ?? 6,
      burstFrames: options.burstFrames ?? 25,
      limiterThreshold: options.limiterThreshold ?? 0.9,
      limiterRelease: options.limiterRelease ?? 0.02,
      speakingOnDb: options.speakingOnDb ?? -45,
      speakingOffDb: options.speakingOffDb ?? -52,
      speakingOnFrames: options.speakingOnFrames ?? 3,
      speakingHangFrames: options.speakingHangFrames ?? 40,
      gateOnDb: options.gateOnDb ?? -50,
      gateOffDb: options.gateOffDb ?? -58,
      gateHangFrames: options.gateHangFrames ?? 50,
    };
    if (this.opts.maxBufferFrames < this.opts.minBufferFrames) throw new RangeError('maxBufferFrames must be ≥ minBufferFrames');
    if (!isMixerMode(this.opts.mode)) throw new RangeError(`mode must be one of ${MIXER_MODES.join(', ')}`);
    this._rate = checkRate(options.sampleRate ?? MIX_RATE);
    this._frame = this._rate / 100;
    this.sum = new Float32Array(this._frame);
    this.mix = new Float32Array(this._frame);
    this._shared = new Int16Array(this._frame);
  }

  get size(): number { return this.inputs.size; }
  get mode(): MixerMode { return this.opts.mode; }
  /** The mix rate (Hz): what `push()` resamples to and `tick()` outputs. */
  get sampleRate(): number { return this._rate; }
  /** Samples in one output frame (10 ms at `sampleRate`). */
  get frameSamples(): number { return this._frame; }
  /** The output frame of everyone outside the sum this tick (`shared` mode; valid until the next tick). */
  get shared(): Int16Array { return this._shared; }
  has(id: string): boolean { return this.inputs.has(id); }
  ids(): string[] { return [...this.inputs.keys()]; }
  /** Whether the participant's audio was in the last tick's sum (and so they got a mix-minus of their own). */
  isInSum(id: string): boolean { return this.inputs.get(id)?.inSum ?? false; }

  /**
   * Changes the mix rate (e.g. 16 kHz → 48 kHz when an Opus leg joins a G.722 room). Queued audio is dropped and
   * everyone re-primes: a 20 ms gap, once.
   */
  setRate(rate: number): void {
    if (checkRate(rate) === this._rate) return;
    this._rate = rate;
    this._frame = rate / 100;
    this.sum = new Float32Array(this._frame);
    this.mix = new Float32Array(this._frame);
    this._shared = new Int16Array(this._frame);
    for (const input of this.inputs.values()) {
      input.ring = input.ring.map(() => new Float32Array(this._frame));
      input.out = new Int16Array(this._frame);
      input.head = input.count = input.pendingLength = 0;
      input.primed = false;
      input.current = null;
    }
  }

  add(id: string): void {
    if (this.inputs.has(id)) return;
    // One frame more than the queue may hold: the frame being filled.
    const slots = this.opts.maxBufferFrames + this.opts.burstFrames + 1;
    this.inputs.set(id, {
      id, ring: Array.from({ length: slots }, () => new Float32Array(this._frame)), head: 0, count: 0, pendingLength: 0,
      last: 0, primed: false, muted: false, speaking: false, above: 0, below: 0, inSum: false, gateBelow: 0, levelDb: -Infinity,
      gain: 1, current: null, out: new Int16Array(this._frame), underruns: 0, dropped: 0,
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
   * Queues a participant's PCM (any length, any rate; resampled to the mix rate). Unknown or muted ids are ignored.
   * At most `maxBufferFrames + burstFrames` frames are held (older ones are dropped); `tick()` trims to
   * `maxBufferFrames`.
   */
  push(id: string, samples: Int16Array, sampleRate: number): void {
    const input = this.inputs.get(id);
    if (!input || input.muted || samples.length === 0 || !(sampleRate > 0)) return;
    const slots = input.ring.length;
    const hold = slots - 1;
    const size = this._frame;
    if (sampleRate === this._rate) {
      // The common case: straight into the frame being filled, no intermediate array.
      let offset = 0;
      while (offset < samples.length) {
        const frame = input.ring[(input.head + input.count) % slots]!;
        const take = Math.min(size - input.pendingLength, samples.length - offset);
        for (let i = 0, j = input.pendingLength; i < take; i++, j++) frame[j] = samples[offset + i]!;
        input.pendingLength += take;
        offset += take;
        if (input.pendingLength === size) this.commit(input, hold);
      }
    } else {
      // Another rate: resampled as `resample()` does, straight into the frames being filled, no intermediate array.
      const n = resampledLength(samples.length, sampleRate, this._rate);
      const step = sampleRate / this._rate;
      let frame = input.ring[(input.head + input.count) % slots]!;
      for (let i = 0; i < n; i++) {
        frame[input.pendingLength++] = interpolate(samples, step, i, input.last);
        if (input.pendingLength === size) {
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
   * One 10 ms tick: takes a frame from every primed input, updates speaking and the gate, and returns each
   * participant's output as Int16 PCM at `sampleRate` (`frameSamples` samples): `shared` (the same array) for everyone
   * outside the sum, a mix-minus of their own for everyone in it. The map and its arrays are reused: they are valid
   * until the next tick (copy what you keep). `trim: false` (the first ticks of a catch-up burst) leaves queues above
   * `maxBufferFrames` for the ticks that follow.
   */
  tick(trim = true): Map<string, Int16Array> {
    const sum = this.sum;
    const size = this._frame;
    sum.fill(0);
    const { minBufferFrames, maxBufferFrames } = this.opts;
    const perLeg = this.opts.mode === 'per-leg';
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
      this.gate(input, level, perLeg);
      if (input.current && input.inSum) {
        const f = input.current;
        for (let i = 0; i < size; i++) sum[i]! += f[i]!;
      } else {
        input.current = null;
      }
    }
    const out = this.outputs;
    const threshold = this.opts.limiterThreshold * (FULL_SCALE - 1);
    const mix = this.mix;
    let sharedDone = false;
    for (const input of this.inputs.values()) {
      if (!input.inSum) {
        // Outside the sum: the shared output, computed once per tick.
        if (!sharedDone) {
          this.sharedGain = this.limit(sum, peakOf(sum), threshold, this.sharedGain, this._shared);
          sharedDone = true;
        }
        out.set(input.id, this._shared);
        continue;
      }
      // Everyone else = the total minus this participant's own frame.
      const own = input.current;
      let peak = 0;
      if (own) {
        for (let i = 0; i < size; i++) {
          const v = sum[i]! - own[i]!;
          mix[i] = v;
          const a = v < 0 ? -v : v;
          if (a > peak) peak = a;
        }
      } else {
        mix.set(sum);
        peak = peakOf(sum);
      }
      input.gain = this.limit(mix, peak, threshold, input.gain, input.out);
      out.set(input.id, input.out);
    }
    return out;
  }

  /** `per-leg`: every unmuted participant is in the sum. `shared`: the gate (see the module comment). */
  private gate(input: Input, level: number, perLeg: boolean): void {
    let inSum: boolean;
    if (input.muted) inSum = false;
    else if (perLeg) inSum = true;
    else if (level > this.opts.gateOnDb) {
      inSum = true;
      input.gateBelow = 0;
    } else if (input.inSum) {
      input.gateBelow = level < this.opts.gateOffDb ? input.gateBelow + 1 : 0;
      inSum = input.gateBelow < this.opts.gateHangFrames;
    } else inSum = false;
    if (inSum && !input.inSum) input.gain = this.sharedGain;
    if (!inSum) input.gateBelow = 0;
    input.inSum = inSum;
  }

  /** Writes `mix` × gain to `result` as Int16 and returns the new gain (see "Limiter" in the module comment). */
  private limit(mix: Float32Array, peak: number, threshold: number, from: number, result: Int16Array): number {
    const size = mix.length;
    const needed = peak * from > threshold ? threshold / peak : 1;
    let to: number;
    if (needed < from) to = needed; // attack: the whole frame at the lower gain, no overshoot
    else to = Math.min(1, from + (1 - from) * this.opts.limiterRelease, peak > 0 ? threshold / peak : 1);
    if (to < from || to === from) {
      // Constant gain across the frame (attack, or steady unity gain: the common case).
      for (let i = 0; i < size; i++) {
        let v = Math.round(mix[i]! * to);
        if (v > 32767) v = 32767;
        else if (v < -32768) v = -32768;
        result[i] = v;
      }
      return to;
    }
    const step = (to - from) / size;
    for (let i = 0; i < size; i++) {
      let v = Math.round(mix[i]! * (from + step * (i + 1)));
      if (v > 32767) v = 32767;
      else if (v < -32768) v = -32768;
      result[i] = v;
    }
    return to;
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

function checkRate(rate: number): number {
  if (!Number.isInteger(rate) || rate < 8000 || rate > 48_000 || rate % 100 !== 0) throw new RangeError('sampleRate must be 8000..48000 Hz, a multiple of 100');
  return rate;
}

function peakOf(x: Float32Array): number {
  let peak = 0;
  for (let i = 0; i < x.length; i++) {
    const a = x[i]! < 0 ? -x[i]! : x[i]!;
    if (a > peak) peak = a;
  }
  return peak;
}

/** Linear resampling from `rate` to `to` (default 48 kHz); `prev` is the sample before `samples[0]` (continuity across frames). */
export function resample(samples: Int16Array, rate: number, prev = 0, to = MIX_RATE): Float32Array {
  const out = new Float32Array(resampledLength(samples.length, rate, to));
  const step = rate / to;
  for (let i = 0; i < out.length; i++) out[i] = interpolate(samples, step, i, prev);
  return out;
}

/** How many samples at `to` `length` input samples at `rate` become. */
function resampledLength(length: number, rate: number, to: number): number {
  return Math.round((length * to) / rate);
}

/** Output sample `i` of the linear resampling by `step` (input rate / output rate); `prev` precedes `samples[0]`. */
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
