// The lazily loaded Howler chunk: a static re-export, which esbuild turns into the named exports of Howler's
// CommonJS module (a dynamic import of the CommonJS module itself does not get them).
export { Howl, Howler } from 'howler';
// The built-in sounds are generated only for playing them, so their generator travels with Howler.
export { builtInSoundUri, dtmfSprite } from './tone-render.js';
