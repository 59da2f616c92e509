// In the sound chunk with Howler (see howler-chunk.ts): only audio-engine.ts uses it.
import { Howl, Howler } from 'howler';
import { dtmfSprite } from './tone-render.js';

// One Howl per sound source for the whole page, shared by every controller (every client): Howler keeps each Howl
// (and its decoded audio) until unloaded, and unload churn leaks, so a Howl is never made twice. Volume and mute
// are applied per playing sound, so controllers sharing a Howl do not disturb each other.
const sharedHowls = new Map<string, Howl>();
let sharedDtmf: Howl | null = null;

/** True when some Howl exists (Howler creates its AudioContext with the first). */
export function hasHowls(): boolean {
  return sharedHowls.size > 0;
}

/** The page's one Howl for `src` (Web Audio or, for `html5`, an audio element). */
export function sharedHowl(src: string, html5: boolean): Howl {
  const key = `${html5 ? 'html5' : 'webaudio'}|${src}`;
  let howl = sharedHowls.get(key);
  if (!howl) {
    howl = new Howl({ src: [src], ...formatOf(src), html5, preload: true });
    sharedHowls.set(key, howl);
  }
  return howl;
}

/** The page's one DTMF key-tone sprite. */
export function sharedDtmfHowl(): Howl {
  if (!sharedDtmf) {
    const { uri, sprite } = dtmfSprite();
    sharedDtmf = new Howl({ src: [uri], format: ['wav'], sprite });
  }
  return sharedDtmf;
}

/** The DTMF sprite if it was made. */
export function dtmfHowlIfAny(): Howl | null {
  return sharedDtmf;
}

/** Howler's current AudioContext, if any. */
export function audioContext(): AudioContext | null {
  return (Howler.ctx as AudioContext | null | undefined) ?? null;
}

/** Howler needs `format` when the URL has no file extension to go by (data URIs, extension-less URLs). */
function formatOf(src: string): { format?: string[] } {
  const data = /^data:audio\/(?:x-)?([a-z0-9]+)[;,]/i.exec(src);
  if (data) return { format: [data[1]!.toLowerCase() === 'mpeg' ? 'mp3' : data[1]!.toLowerCase()] };
  return /\.[a-z0-9]{2,4}(?:[?#]|$)/i.test(src) ? {} : { format: ['mp3', 'wav', 'ogg', 'webm'] };
}
