// The lazily loaded part of `client.getCallHistory()` (see call-history.ts for the wire format): most pages never
// ask for their history, so the request and the checks of the answer stay out of the first load.
import { CallingError } from './errors.js';
import { CALL_HISTORY_MESSAGE, historyEntryIn, historyOptionsProblem, type CallHistoryEntry, type CallHistoryOptions } from './call-history.js';

/** The signalling socket of a registered PeerJS peer (`peer.socket`): server messages in, JSON frames out. */
export interface ServerSocket {
  on(event: 'message', fn: (message: unknown) => void): unknown;
  off(event: 'message', fn: (message: unknown) => void): unknown;
  send(data: unknown): void;
}

let nextRequest = 1;

/**
 * Asks the calling server for a page of the signed-in user's calls over `socket`. Rejects with a `CallingError`:
 * `argument` (`invalid-limit`, `invalid-cursor`) before anything is sent, `network`/`history-timeout` when no answer
 * comes within `timeoutMs`, `api` with the server's code (`rate-limited`, `history-unavailable`), `argument`/`invalid-cursor` for a cursor that is not in this history.
 */
export function requestCallHistory(socket: ServerSocket, options: CallHistoryOptions | undefined, timeoutMs: number): Promise<CallHistoryEntry[]> {
  const { limit, before } = (options ?? {}) as { limit?: unknown; before?: unknown };
  const problem = historyOptionsProblem(limit, before);
  if (problem) return Promise.reject(new CallingError('argument', problem.code, problem.message));
  const requestId = `h${nextRequest++}`;
  return new Promise((resolve, reject) => {
    const finish = (fn: () => void) => {
      clearTimeout(timer);
      socket.off('message', onMessage);
      fn();
    };
    const timer = setTimeout(
      () => finish(() => reject(new CallingError('network', 'history-timeout', 'The calling server did not answer the call history request.'))),
      timeoutMs,
    );
    const onMessage = (message: unknown) => {
      const { type, payload } = (message ?? {}) as { type?: unknown; payload?: Record<string, unknown> };
      if (type !== CALL_HISTORY_MESSAGE || payload?.requestId !== requestId) return;
      const error = payload.error as { code?: unknown; message?: unknown } | undefined;
      if (error) {
        const code = typeof error.code === 'string' ? error.code.slice(0, 64) : 'unknown';
        const text = typeof error.message === 'string' ? error.message.slice(0, 512) : 'The call history could not be read.';
        finish(() => reject(new CallingError(code.startsWith('invalid-') ? 'argument' : 'api', code, text)));
        return;
      }
      const calls = Array.isArray(payload.calls) ? payload.calls.map(historyEntryIn) : [undefined];
      if (calls.includes(undefined)) {
        finish(() => reject(new CallingError('signalling', 'invalid-response', 'The calling server sent a malformed call history.')));
        return;
      }
      finish(() => resolve(calls as CallHistoryEntry[]));
    };
    socket.on('message', onMessage);
    try {
      socket.send({ type: CALL_HISTORY_MESSAGE, payload: { requestId, ...(limit === undefined ? {} : { limit }), ...(before === undefined ? {} : { before }) } });
    } catch (err) {
      finish(() => reject(new CallingError('network', 'not-connected', 'Not connected to the calling server.', { cause: err })));
    }
  });
}
