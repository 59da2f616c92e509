// Built-in call sounds, generated at run time: regional supervisory tones after ITU-T E.180 (Supplement 2), DTMF
// pairs after ITU-T Q.23, a ringtone and an end-of-call chime. Everything is rendered to WAV data URIs and cached.
import { CallingError } from '../errors.js';

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
/** Seconds of one loop of the hold tone. */
export const HOLD_LOOP_SECONDS = 4;

/** How many cadences of busy tone a declined call gets. */
export const BUSY_CADENCES = 3;

/** Seconds of one cadence of a built-in sound in a region (how long one loop lasts). */
export function soundLoopSeconds(name: SoundName, region: ToneRegion): number {
  if (name === 'ringtone') return 3;
  if (name === 'callEnded') return 0.5;
  if (name === 'onHold') return HOLD_LOOP_SECONDS;
  return TONE_PLANS[region][name].cadence.reduce((a, b) => a + b, 0);
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
