export { AudioController } from './audio-controller.js';
export type { AudioControllerOptions } from './audio-controller.js';
export { AutoplayBlockedEvent, AutoplayUnlockedEvent } from './events.js';
export type { AudioControllerEventMap } from './events.js';
export { TonePolicy, BUSY_CADENCES } from './tone-policy.js';
export { TONE_PLANS, TONE_REGIONS, SOUND_NAMES, DTMF_FREQUENCIES, DTMF_TONE_SECONDS, soundLoopSeconds, toneRegionForLocales } from './tones.js';
export type { SoundName, ToneRegion, ToneSpec, TonePlan } from './tones.js';
// Generating tones and WAV files is in `calling-elements/tones` (./tone-tools.ts): the one-file bundle leaves it to
// the sound chunk, so it is not part of the first load.
