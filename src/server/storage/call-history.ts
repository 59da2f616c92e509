/**
 * Answers `CALL-HISTORY` queries on the signalling socket (see `core/call-history.ts`): a signed-in user gets their
 * own ended calls, newest first, from the shared storage (so any node of a cluster answers alike). Who asks is the
 * user the server authenticated for that socket, never a field of the query; services (gateway, conference) get no
 * history. Bad queries, a rate limit and storage failures are answered with a typed `error`, never a crash.
 */
import type { IClient, IMessage } from 'peer';
import { CallingError } from '../../core/errors.js';
import { CALL_HISTORY_MESSAGE, parseHistoryQuery, type WireHistoryEntry } from '../../core/call-history.js';
import { RateLimiter, type RateLimitOptions } from '../api/rate-limit.js';
import type { CallingStorage, CallRecord } from './store.js';

export interface CallHistoryServiceOptions {
  /** The user a client's socket was authenticated as; undefined for a service or an unauthenticated socket. */
  userOf(client: IClient): string | undefined;
  /** Resolves once the call records of every message seen so far are written (the asker's own last call included). */
  recorded(): Promise<void>;
  /** Queries per user. Default 5 a second, bursts of 10. */
  rateLimit?: RateLimitOptions;
  onError?: (err: unknown) => void;
}

export class CallHistoryService {
  private readonly limiter: RateLimiter;

  constructor(private readonly store: CallingStorage, private readonly options: CallHistoryServiceOptions) {
    this.limiter = new RateLimiter(options.rateLimit ?? { perSecond: 5, burst: 10 });
  }

  /** Call for every PeerServer `message`. */
  onMessage(client: IClient, message: IMessage): void {
    if ((message.type as string) !== CALL_HISTORY_MESSAGE) return;
    const socket = client.getSocket();
    const user = this.options.userOf(client);
    if (!socket || !user) return;
    const query = parseHistoryQuery(message.payload);
    const reply = (payload: object) => {
      try {
        socket.send(JSON.stringify({ type: CALL_HISTORY_MESSAGE, payload: { requestId: query.requestId, ...payload } }));
      } catch {
        // the socket is closing: nobody to answer
      }
    };
    if (!query.ok) {
      reply({ error: { code: query.code, message: query.message } });
      return;
    }
    if (this.limiter.take(user) > 0) {
      reply({ error: { code: 'rate-limited', message: 'Too many call history requests; try again in a moment.' } });
      return;
    }
    void this.options.recorded()
      .then(() => this.store.callHistory(user, { limit: query.limit, before: query.before }))
      .then(
        (records) => reply({ calls: records.map((r) => historyEntryOf(r, user)) }),
        (err: unknown) => {
          if (err instanceof CallingError && err.domain === 'argument') {
            reply({ error: { code: err.code, message: err.message } });
            return;
          }
          this.options.onError?.(err);
          reply({ error: { code: 'history-unavailable', message: 'The call history cannot be read right now.' } });
        },
      );
  }
}

/** A call record as `user` sees it: direction, the other party and (for incoming calls) the caller's name. */
export function historyEntryOf(r: CallRecord, user: string): WireHistoryEntry {
  const outgoing = r.caller === user;
  const duration = r.establishedAt !== null && r.endedAt !== null ? Math.max(0, Math.round((r.endedAt - r.establishedAt) / 1000)) : 0;
  return {
    callId: r.callId,
    direction: outgoing ? 'outgoing' : 'incoming',
    callType: r.callType,
    remote: outgoing ? r.callee : r.caller,
    ...(!outgoing && r.callerName ? { remoteDisplayName: r.callerName } : {}),
    video: r.video,
    startedAt: r.startedAt,
    answered: r.establishedAt !== null,
    duration,
    endCause: r.endCause ?? 'hungUp',
  };
}
