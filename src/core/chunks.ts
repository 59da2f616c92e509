// The parts of the SDK that a page does not need to paint the elements arrive as chunks of their own (the bundle
// imports them relative to its own URL): PeerJS, fetched on a client's first connect, Howler, for the first
// sound, the call-quality code, once a call is established, and device choice and screen sharing (media-devices.ts),
// once a client is online. Each loader fetches its chunk once per page and resolves at once after that.
import { CallingError } from './errors.js';

type PeerChunk = typeof import('./peer-chunk.js');
type HowlerChunk = typeof import('./audio/howler-chunk.js');
type QualityChunk = typeof import('./quality-chunk.js');
type HistoryChunk = typeof import('./history-chunk.js');
type MediaChunk = typeof import('./media-chunk.js');
type RecoveryChunk = typeof import('./recovery-chunk.js');
type NotifyChunk = typeof import('./notify-chunk.js');

let peer: Promise<PeerChunk> | null = null;
let howler: Promise<HowlerChunk> | null = null;
let quality: Promise<QualityChunk> | null = null;
let history: Promise<HistoryChunk> | null = null;
let media: Promise<MediaChunk> | null = null;
let recovery: Promise<RecoveryChunk> | null = null;
let notify: Promise<NotifyChunk> | null = null;
/** What `preloadChunks` fetches: the SDK's chunks, and those lazy elements add (`addPreload`). */
const preloads: Array<() => Promise<unknown>> = [loadPeerChunk, loadHowlerChunk, loadQualityChunk, loadMediaChunk, loadRecoveryChunk, loadNotifyChunk];

export function loadPeerChunk(): Promise<PeerChunk> {
  return (peer ??= fetched(import('./peer-chunk.js'), () => { peer = null; }));
}

export function loadHowlerChunk(): Promise<HowlerChunk> {
  return (howler ??= fetched(import('./audio/howler-chunk.js'), () => { howler = null; }));
}

export function loadQualityChunk(): Promise<QualityChunk> {
  return (quality ??= fetched(import('./quality-chunk.js'), () => { quality = null; }));
}

export function loadHistoryChunk(): Promise<HistoryChunk> {
  return (history ??= fetched(import('./history-chunk.js'), () => { history = null; }));
}

/** Adds a loader for `preloadChunks` to run on idle too (a lazy element's chunk). */
export function addPreload(load: () => Promise<unknown>): void {
  preloads.push(load);
}

/** ICE recovery (watching a call's media path, ICE restarts), fetched for a call's first media connection. */
export function loadRecoveryChunk(): Promise<RecoveryChunk> {
  return (recovery ??= fetched(import('./recovery-chunk.js'), () => { recovery = null; }));
}

/** Showing a notification for a call that rings while the page is hidden. */
export function loadNotifyChunk(): Promise<NotifyChunk> {
  return (notify ??= fetched(import('./notify-chunk.js'), () => { notify = null; }));
}

export function loadMediaChunk(): Promise<MediaChunk> {
  return (media ??= fetched(import('./media-chunk.js'), () => { media = null; }));
}

/** A chunk that failed to load (network, a deploy that replaced dist/) is fetched again next time, and says so. */
export function fetched<T>(loading: Promise<T>, forget: () => void): Promise<T> {
  return loading.catch((err: unknown) => {
    forget();
    throw new CallingError('network', 'chunk-load-failed', 'A part of the calling kit could not be loaded from the server; check the connection and try again.', { cause: err });
  });
}

/**
 * Fetches every lazy chunk when the browser is idle (the elements call it once they have painted), so that a user
 * who clicks "Call" never waits on the network. A chunk that fails to load is fetched again when it is needed.
 */
export function preloadChunks(): void {
  const load = () => {
    for (const chunk of preloads) chunk().catch(() => undefined);
  };
  if (typeof requestIdleCallback === 'function') requestIdleCallback(load, { timeout: 2000 });
  else setTimeout(load, 0);
}
