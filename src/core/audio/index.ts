export { AudioController } from './audio-controller.js';
export type { AudioControllerOptions } from './audio-controller.js';
export { AutoplayBlockedEvent, AutoplayUnlockedEvent } from './events.js';
export type { AudioControllerEventMap } from './events.js';
export { TonePolicy, BUSY_CADENCES } from './tone-policy.js';
export {
  TONE_PLANS, TONE_REGIONS, SOUND_NAMES, DTMF_FREQUENCIES, DTMF_TONE_SECONDS, builtInSoundUri, dtmfSprite, renderTone,
  renderRingtone, renderCallEnded, renderDtmfSprite, soundLoopSeconds, toneRegionForLocales,
} from './tones.js';
export type { SoundName, ToneRegion, ToneSpec, TonePlan } from './tones.js';
export { encodeWav, decodeWav, wavDataUri, dataUriBytes } from './wav.js';
