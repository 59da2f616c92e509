// Built-in call sounds, generated at run time: regional supervisory tones after ITU-T E.180 (Supplement 2), DTMF
// pairs after ITU-T Q.23, a ringtone and an end-of-call chime. Everything is rendered to WAV data URIs and cached.
import { CallingError } from '../errors.js';
import { encodeWav, wavDataUri } from './wav.js';

/** A regional tone plan (ITU-T E.180): `us` (North America), `eu` (CEPT), `uk`. */
export type ToneRegion = 'us' | 'eu' | 'uk';
/** The SDK's built-in sounds; each can be replaced with `audioController.setSound(name, url)`. */
export type SoundName = 'ringtone' | 'progressTone' | 'busy' | 'callEnded' | 'callWaiting' | 'onHold';

export const TONE_REGIONS: readonly ToneRegion[] = ['us', 'eu', 'uk'];
export const SOUND_NAMES: readonly SoundName[] = ['ringtone', 'progressTone', 'busy', 'callEnded', 'callWaiting', 'onHold'];

/**
 * A cadenced tone: the frequencies sound together during every "on" period. `cadence` alternates on and off
 * durations in seconds, starting with on; one full cadence is one loop of the sound.
 */
export interface ToneSpec {
  readonly frequencies: readonly number[];
  readonly cadence: readonly number[];
}

export interface TonePlan {
  /** Ringback ("progress tone"): what a caller hears while the callee is alerted. */
  readonly progressTone: ToneSpec;
  readonly busy: ToneSpec;
  readonly callWaiting: ToneSpec;
}

/** The tone plans, after ITU-T E.180 Supplement 2 / ETSI TR 101 041 / BT SIN 350. */
export const TONE_PLANS: Readonly<Record<ToneRegion, TonePlan>> = Object.freeze({
  us: {
    progressTone: { frequencies: [440, 480], cadence: [2, 4] },
    busy: { frequencies: [480, 620], cadence: [0.5, 0.5] },
    callWaiting: { frequencies: [440], cadence: [0.3, 9.7] },
  },
  eu: {
    progressTone: { frequencies: [425], cadence: [1, 4] },
    busy: { frequencies: [425], cadence: [0.5, 0.5] },
    callWaiting: { frequencies: [425], cadence: [0.2, 0.2, 0.2, 4.4] },
  },
  uk: {
    progressTone: { frequencies: [400, 450], cadence: [0.4, 0.2, 0.4, 2] },
    busy: { frequencies: [400], cadence: [0.375, 0.375] },
    callWaiting: { frequencies: [400], cadence: [0.1, 3] },
  },
});

/** ITU-T Q.23 DTMF: the low (row) and high (column) frequency of every key. */
export const DTMF_FREQUENCIES: Readonly<Record<string, readonly [number, number]>> = Object.freeze(buildDtmfTable());

function buildDtmfTable(): Record<string, readonly [number, number]> {
  const rows = [697, 770, 852, 941] as const;
  const cols = [1209, 1336, 1477, 1633] as const;
  const keys = ['123A', '456B', '789C', '*0#D'];
  const table: Record<string, readonly [number, number]> = {};
  keys.forEach((row, r) => [...row].forEach((key, c) => { table[key] = [rows[r]!, cols[c]!]; }));
  return table;
}

/** Sample rate of the telephony tones: ample for the highest DTMF frequency (1633 Hz), and small. */
export const TONE_SAMPLE_RATE = 8000;
/** The ringtone has harmonics up to ~4 kHz. */
export const RINGTONE_SAMPLE_RATE = 16000;
/** Length of one DTMF key tone and the silence after it, in seconds. */
export const DTMF_TONE_SECONDS = 0.15;
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

/** Seconds of one loop of the hold tone. */
const HOLD_LOOP_SECONDS = 4;

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

/** Seconds of one cadence of a built-in sound in a region (how long one loop lasts). */
export function soundLoopSeconds(name: SoundName, region: ToneRegion): number {
  if (name === 'ringtone') return 3;
  if (name === 'callEnded') return 0.5;
  if (name === 'onHold') return HOLD_LOOP_SECONDS;
  return TONE_PLANS[region][name].cadence.reduce((a, b) => a + b, 0);
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

export function assertToneRegion(region: unknown): asserts region is ToneRegion {
  if (!TONE_REGIONS.includes(region as ToneRegion)) {
    throw new CallingError('argument', 'invalid-tone-region', `The tone region must be one of ${TONE_REGIONS.join(', ')} (got "${String(region)}").`);
  }
}

export function assertSoundName(name: unknown): asserts name is SoundName {
  if (!SOUND_NAMES.includes(name as SoundName)) {
    throw new CallingError('argument', 'invalid-sound-name', `The sound must be one of ${SOUND_NAMES.join(', ')} (got "${String(name)}").`);
  }
}

// North American Numbering Plan countries use the US tones; the UK and its Crown dependencies the UK tones.
const US_REGIONS = new Set(['US', 'CA', 'PR', 'VI', 'GU', 'AS', 'MP', 'UM', 'BS', 'BB', 'AI', 'AG', 'VG', 'KY', 'BM', 'DM', 'DO', 'GD', 'JM', 'MS', 'KN', 'LC', 'VC', 'SX', 'TT', 'TC']);
const UK_REGIONS = new Set(['GB', 'IM', 'JE', 'GG']);

/**
 * The tone region for a list of BCP 47 locales (e.g. `navigator.languages`): the first one that names (or implies,
 * `en` → US) a country decides. Everything outside North America and the UK gets the CEPT (`eu`) plan.
 */
export function toneRegionForLocales(locales: readonly string[]): ToneRegion {
  for (const tag of locales) {
    let country: string | undefined;
    try {
      country = new Intl.Locale(tag).maximize().region;
    } catch {
      continue;
    }
    if (!country) continue;
    if (US_REGIONS.has(country)) return 'us';
    if (UK_REGIONS.has(country)) return 'uk';
    return 'eu';
  }
  return 'us';
}
