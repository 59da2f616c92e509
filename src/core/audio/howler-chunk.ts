// The lazily loaded sound chunk: Howler, the tone generator (built-in sounds are generated when they first play) and
// what the AudioController does with them (audio-engine.ts). The controller in the first load keeps the state.
export { AudioEngine } from './audio-engine.js';
