/**
 * Tone and WAV tools (`calling-elements/tones`): the generators behind the built-in sounds, for apps that make their
 * own (e.g. a ringtone in another cadence, given to `setSound()` as a data URI). Not in the one-file bundle's
 * exports: there the sound chunk generates the built-in sounds when they first play.
 */
export { builtInSoundUri, dtmfSprite, renderTone, renderRingtone, renderCallEnded, renderHoldTone, renderDtmfSprite } from './tone-render.js';
export { encodeWav, decodeWav, wavDataUri, dataUriBytes } from './wav.js';
