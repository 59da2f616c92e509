// Generating the built-in sounds (tone plans, ringtone, DTMF sprite) as WAV data: needed only when a sound is first
// played, so it travels in the sound chunk with Howler (see audio/howler-chunk.ts), not in the first load.
import { CallingError } from '../errors.js';
import { encodeWav, wavDataUri } from './wav.js';
import {
  assertSoundName, assertToneRegion, DTMF_FREQUENCIES, DTMF_TONE_SECONDS, HOLD_LOOP_SECONDS, RINGTONE_SAMPLE_RATE,
  TONE_PLANS, TONE_SAMPLE_RATE, type SoundName, type ToneRegion, type ToneSpec,
} from './tones.js';

const DTMF_SLOT_SECONDS = 0.2;
// Each frequency at -16 dBFS-ish, so that two of them together stay well clear of clipping.
const TONE_LEVEL = 0.3;
// Raised-cosine ramps at the start and end of every burst: hard edges click.
const RAMP_SECONDS = 0.005;

/** One cadence of a tone, `repeat` times over, as samples. */
export function renderTone(spec: ToneSpec, sampleRate = TONE_SAMPLE_RATE, repeat = 1): Float32Array {
  if (!spec.frequencies.length || !spec.cadence.length || spec.cadence.some((d) => !(d > 0))) {
    throw new CallingError('argument', 'invalid-tone', 'A tone needs at least one frequency and positive cadence durations.');
  }
  const cadenceSeconds = spec.cadence.reduce((a, b) => a + b, 0);
  const out = new Float32Array(Math.round(cadenceSeconds * repeat * sampleRate));
  let t0 = 0;
  for (let r = 0; r < repeat; r++) {
    spec.cadence.forEach((seconds, i) => {
      if (i % 2 === 0) addBurst(out, sampleRate, t0, seconds, spec.frequencies, TONE_LEVEL);
      t0 += seconds;
    });
  }
  return out;
}

function addBurst(out: Float32Array, sampleRate: number, start: number, seconds: number, freqs: readonly number[], level: number): void {
  const first = Math.round(start * sampleRate);
  const n = Math.round(seconds * sampleRate);
  const ramp = Math.max(1, Math.round(RAMP_SECONDS * sampleRate));
  for (let i = 0; i < n && first + i < out.length; i++) {
    const t = i / sampleRate;
    let v = 0;
    for (const f of freqs) v += Math.sin(2 * Math.PI * f * t);
    const edge = Math.min(i, n - 1 - i);
    const env = edge >= ramp ? 1 : 0.5 - 0.5 * Math.cos((Math.PI * edge) / ramp);
    out[first + i]! += v * level * env;
  }
}

/**
 * The default ringtone: a soft bell arpeggio (E major, each note with decaying harmonics) played twice, then a
 * pause; 3 s per loop. Pleasant rather than a bare sine, and still unmistakably a phone.
 */
export function renderRingtone(sampleRate = RINGTONE_SAMPLE_RATE): Float32Array {
  const out = new Float32Array(3 * sampleRate);
  const notes = [659.25, 830.61, 987.77, 1318.51];
  const partials: Array<[number, number]> = [[1, 1], [2, 0.35], [3, 0.12]];
  let start = 0;
  for (let pass = 0; pass < 2; pass++) {
    for (const f of notes) {
      bell(out, sampleRate, start, 0.6, f, partials, 0.22);
      start += 0.12;
    }
    start += 0.25;
  }
  return out;
}

/** A short descending two-note chime (0.5 s) that tells the user the call has ended. */
export function renderCallEnded(sampleRate = RINGTONE_SAMPLE_RATE): Float32Array {
  const out = new Float32Array(Math.round(0.5 * sampleRate));
  bell(out, sampleRate, 0, 0.3, 659.25, [[1, 1], [2, 0.2]], 0.3);
  bell(out, sampleRate, 0.18, 0.32, 523.25, [[1, 1], [2, 0.2]], 0.3);
  return out;
}


/**
 * The hold tone the held side hears: a soft, low rising pair of bell notes (G4, C5) every 4 s, quieter than the
 * other tones — a reminder that the call is still there, not an alert.
 */
export function renderHoldTone(sampleRate = RINGTONE_SAMPLE_RATE): Float32Array {
  const out = new Float32Array(HOLD_LOOP_SECONDS * sampleRate);
  bell(out, sampleRate, 0, 0.5, 392, [[1, 1], [2, 0.15]], 0.12);
  bell(out, sampleRate, 0.35, 0.7, 523.25, [[1, 1], [2, 0.15]], 0.12);
  return out;
}

function bell(out: Float32Array, sampleRate: number, start: number, seconds: number, f: number, partials: Array<[number, number]>, level: number): void {
  const first = Math.round(start * sampleRate);
  const n = Math.min(Math.round(seconds * sampleRate), out.length - first);
  const attack = Math.round(0.004 * sampleRate);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const env = (i < attack ? i / attack : 1) * Math.exp(-t * 6) * Math.min(1, (n - i) / attack);
    let v = 0;
    for (const [k, a] of partials) v += a * Math.exp(-t * 3 * k) * Math.sin(2 * Math.PI * f * k * t);
    out[first + i]! += v * level * env;
  }
}

/**
 * All sixteen DTMF keys in one WAV (a Howler sprite): key `k` sounds for 150 ms at `dtmfSpriteOffset(k)` ms.
 * One Howl serves every key press.
 */
export function renderDtmfSprite(sampleRate = TONE_SAMPLE_RATE): { samples: Float32Array; sprite: Record<string, [number, number]> } {
  const keys = Object.keys(DTMF_FREQUENCIES);
  const out = new Float32Array(Math.round(keys.length * DTMF_SLOT_SECONDS * sampleRate));
  const sprite: Record<string, [number, number]> = {};
  keys.forEach((key, i) => {
    const start = i * DTMF_SLOT_SECONDS;
    addBurst(out, sampleRate, start, DTMF_TONE_SECONDS, DTMF_FREQUENCIES[key]!, TONE_LEVEL);
    sprite[key] = [Math.round(start * 1000), DTMF_TONE_SECONDS * 1000];
  });
  return { samples: out, sprite };
}


const cache = new Map<string, string>();

/** The built-in sound `name` for `region` as a WAV data URI (one loop; generated once, then cached). */
export function builtInSoundUri(name: SoundName, region: ToneRegion): string {
  assertSoundName(name);
  assertToneRegion(region);
  const key = name === 'ringtone' || name === 'callEnded' || name === 'onHold' ? name : `${name}:${region}`;
  let uri = cache.get(key);
  if (!uri) {
    if (name === 'ringtone') uri = wavDataUri(encodeWav(renderRingtone(), RINGTONE_SAMPLE_RATE));
    else if (name === 'callEnded') uri = wavDataUri(encodeWav(renderCallEnded(), RINGTONE_SAMPLE_RATE));
    else if (name === 'onHold') uri = wavDataUri(encodeWav(renderHoldTone(), RINGTONE_SAMPLE_RATE));
    else uri = wavDataUri(encodeWav(renderTone(TONE_PLANS[region][name]), TONE_SAMPLE_RATE));
    cache.set(key, uri);
  }
  return uri;
}

let dtmfCache: { uri: string; sprite: Record<string, [number, number]> } | undefined;
/** The DTMF sprite as a WAV data URI plus its Howler sprite map (generated once). */
export function dtmfSprite(): { uri: string; sprite: Record<string, [number, number]> } {
  if (!dtmfCache) {
    const { samples, sprite } = renderDtmfSprite();
    dtmfCache = { uri: wavDataUri(encodeWav(samples, TONE_SAMPLE_RATE)), sprite };
  }
  return dtmfCache;
}
