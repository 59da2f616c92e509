// The parts of the SDK that a page does not need to paint the elements arrive as chunks of their own (the bundle
// imports them relative to its own URL): PeerJS, fetched on a client's first connect, Howler with the tone generator
// and the audio controller's work (audio/audio-engine.ts, the tone policy's choice), when a client goes online or for
// the first sound, the call-quality code, once a call is established, device choice and screen sharing
// (media-devices.ts), once a client is online, ICE recovery, the incoming-call notification and the history request.
import { CallingError } from './errors.js';

/**
 * A loader for one lazy chunk: fetches it once per page and resolves at once after that; a chunk that failed to load
 * is fetched again next time (see `fetched`).
 */
export function lazyChunk<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | null = null;
  return () => (loading ??= fetched(load(), () => { loading = null; }));
}

export const loadPeerChunk = lazyChunk(() => import('./peer-chunk.js'));
export const loadHowlerChunk = lazyChunk(() => import('./audio/howler-chunk.js'));
export const loadQualityChunk = lazyChunk(() => import('./quality-chunk.js'));
export const loadHistoryChunk = lazyChunk(() => import('./history-chunk.js'));
export const loadMediaChunk = lazyChunk(() => import('./media-chunk.js'));
/** ICE recovery (watching a call's media path, ICE restarts), fetched for a call's first media connection. */
export const loadRecoveryChunk = lazyChunk(() => import('./recovery-chunk.js'));
/** Showing a notification for a call that rings while the page is hidden. */
export const loadNotifyChunk = lazyChunk(() => import('./notify-chunk.js'));

/** What `preloadChunks` fetches: the SDK's chunks, and those lazy elements add (`addPreload`). */
const preloads: Array<() => Promise<unknown>> = [loadPeerChunk, loadHowlerChunk, loadQualityChunk, loadMediaChunk, loadRecoveryChunk, loadNotifyChunk];

/** Adds a loader for `preloadChunks` to run on idle too (a lazy element's chunk). */
export function addPreload(load: () => Promise<unknown>): void {
  preloads.push(load);
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
