/**
 * Recent calls: a signed-in user's own call records, asked of the calling server over the signalling socket the
 * server already authenticated (no REST key in the browser). The wire format, its checks (shared by the SDK and the
 * server), and the small helpers the elements use. The request itself is in `history-chunk.ts` (a lazy chunk).
 *
 * Client → server: `{"type":"CALL-HISTORY","payload":{"requestId","limit?","before?"}}`.
 * Server → client: `{"type":"CALL-HISTORY","payload":{"requestId","calls":[WireHistoryEntry…]}}`, or
 * `{"type":"CALL-HISTORY","payload":{"requestId","error":{"code","message"}}}` for a bad query, a rate limit or a
 * storage failure. Newest first; `before` is the `callId` of the last entry of the previous page.
 */
import type { CallDirection, CallEndCause, CallType } from './types.js';

export { CALL_HISTORY_MESSAGE } from './protocol.js';
/** Entries per page when `limit` is not given. */
export const DEFAULT_HISTORY_LIMIT = 20;
/** Most entries one page may ask for. */
export const MAX_HISTORY_LIMIT = 100;

/** How a recorded call ended: the SDK's end causes, plus `signallingLost` (a party vanished without reporting it). */
export type HistoryEndCause = CallEndCause | 'signallingLost';

/** One call of the signed-in user, as `client.getCallHistory()` returns it. */
export interface CallHistoryEntry {
  readonly callId: string;
  /** Relative to the signed-in user: `outgoing` when this user placed the call. */
  readonly direction: CallDirection;
  readonly callType: CallType;
  /** The other party: a user id, an E.164 number, a SIP address or a conference room. */
  readonly remote: string;
  /** The other party's display name, when the server knows it (the caller's name on incoming calls). */
  readonly remoteDisplayName?: string;
  /** Whether the call offered video. */
  readonly video: boolean;
  readonly startedAt: Date;
  /** Whether the call was answered (its media connected). */
  readonly answered: boolean;
  /** Whole seconds between the answer and the end; 0 when it was not answered. */
  readonly duration: number;
  readonly endCause: HistoryEndCause;
}

/** Options of `client.getCallHistory()`. */
export interface CallHistoryOptions {
  /** Entries to return, 1 to 100 (default 20). A page shorter than `limit` is the last one. */
  limit?: number;
  /** The `callId` of the last entry already shown: the page then starts with the call before it. */
  before?: string;
}

/** An entry on the wire: `startedAt` in ms since the epoch. */
export type WireHistoryEntry = Omit<CallHistoryEntry, 'startedAt'> & { startedAt: number };

/** A history query as the server takes it, or why it does not. */
export type HistoryQuery =
  | { ok: true; requestId: string; limit: number; before: string | undefined }
  | { ok: false; requestId: string; code: 'invalid-limit' | 'invalid-cursor' | 'invalid-request'; message: string };

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Checks a query's options (SDK before sending, server on receipt); the error code and message, or undefined. */
export function historyOptionsProblem(limit: unknown, before: unknown): { code: 'invalid-limit' | 'invalid-cursor'; message: string } | undefined {
  if (limit !== undefined && !(typeof limit === 'number' && Number.isInteger(limit) && limit >= 1 && limit <= MAX_HISTORY_LIMIT)) {
    return { code: 'invalid-limit', message: `limit must be a whole number from 1 to ${MAX_HISTORY_LIMIT}.` };
  }
  if (before !== undefined && !(typeof before === 'string' && before.length > 0 && before.length <= 128)) {
    return { code: 'invalid-cursor', message: 'before must be the callId of a call in this history.' };
  }
  return undefined;
}

/** Reads a query payload from the wire (server side); never throws. */
export function parseHistoryQuery(raw: unknown): HistoryQuery {
  const q = isObject(raw) ? raw : {};
  const requestId = typeof q.requestId === 'string' && q.requestId.length <= 64 ? q.requestId : '';
  if (!isObject(raw) || !requestId) return { ok: false, requestId, code: 'invalid-request', message: 'A history query needs a requestId.' };
  const problem = historyOptionsProblem(q.limit, q.before);
  if (problem) return { ok: false, requestId, ...problem };
  return { ok: true, requestId, limit: (q.limit as number | undefined) ?? DEFAULT_HISTORY_LIMIT, before: q.before as string | undefined };
}

const DIRECTIONS: ReadonlySet<unknown> = new Set(['outgoing', 'incoming']);
const TYPES: ReadonlySet<unknown> = new Set(['user', 'phone', 'sip', 'conference']);
const CAUSES: ReadonlySet<unknown> = new Set([
  'hungUp', 'denied', 'canceled', 'noAnswer', 'unavailable', 'timeout', 'failure', 'otherDeviceAnswered', 'signallingLost',
]);
const isText = (x: unknown, max: number): x is string => typeof x === 'string' && x.length > 0 && x.length <= max;

/** An entry from the wire (client side), or undefined when anything in it is off. */
export function historyEntryIn(x: unknown): CallHistoryEntry | undefined {
  if (!isObject(x) || !isText(x.callId, 128) || !DIRECTIONS.has(x.direction) || !TYPES.has(x.callType) || !isText(x.remote, 128)) return undefined;
  if (typeof x.video !== 'boolean' || typeof x.answered !== 'boolean' || !CAUSES.has(x.endCause)) return undefined;
  if (typeof x.startedAt !== 'number' || !Number.isFinite(x.startedAt) || typeof x.duration !== 'number' || !(x.duration >= 0)) return undefined;
  return Object.freeze({
    callId: x.callId, direction: x.direction as CallDirection, callType: x.callType as CallType, remote: x.remote,
    ...(isText(x.remoteDisplayName, 128) ? { remoteDisplayName: x.remoteDisplayName } : {}),
    video: x.video, startedAt: new Date(x.startedAt), answered: x.answered, duration: Math.floor(x.duration),
    endCause: x.endCause as HistoryEndCause,
  });
}

/**
 * A missed call: an incoming call that was not answered on any device and that this user did not decline (a call
 * the caller gave up on, that rang out, or that reached no device of this user).
 */
export function isMissed(entry: Pick<CallHistoryEntry, 'direction' | 'answered' | 'endCause'>): boolean {
  return entry.direction === 'incoming' && !entry.answered && entry.endCause !== 'denied';
}

/** How many of `entries` are missed calls that started after `since` (e.g. when the user last looked): a badge count. */
export function missedSince(entries: readonly CallHistoryEntry[], since: Date | number = 0): number {
  const after = typeof since === 'number' ? since : since.getTime();
  return entries.filter((e) => isMissed(e) && e.startedAt.getTime() > after).length;
}
