import type { PeerError } from 'peerjs';
import { CallingError } from './errors.js';

/** A JWT's expiry (ms since the epoch), read without verifying it; undefined when it is not a JWT with `exp`. */
export function tokenExpiry(token: string | undefined): number | undefined {
  const part = token?.split('.')[1];
  if (!part) return undefined;
  try {
    const json: unknown = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
    const exp = typeof json === 'object' && json !== null ? (json as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

const CONNECTION_ERRORS: ReadonlySet<string> = new Set(['network', 'server-error', 'socket-error', 'socket-closed', 'unavailable-id']);

/** Whether a PeerJS error type means the connection to the server was lost (reconnecting handles those). */
export function isConnectionError(type: string): boolean {
  return CONNECTION_ERRORS.has(type);
}

export function signallingError(err: PeerError<string> | Error): CallingError {
  // The calling server refuses a missing, forged, expired or someone else's token with "unauthorized: <reason>".
  const refused = 'type' in err && err.type === 'server-error' && err.message.startsWith('unauthorized: ');
  const type = refused ? 'unauthorized' : 'type' in err ? String(err.type) : 'unknown';
  const messages: Record<string, string> = {
    'unavailable-id': 'This user id (on this device) is already online elsewhere.',
    'invalid-id': 'The signalling server refused this user id.',
    'invalid-key': 'The signalling server refused the API key.',
    network: 'Could not reach the calling server.',
    'server-error': `The calling server refused the connection: ${err.message}`,
    unauthorized: `The calling server refused the token: ${err.message.replace(/^unauthorized: /, '')}`,
    'socket-error': 'The connection to the calling server failed.',
    'socket-closed': 'The connection to the calling server closed.',
    'browser-incompatible': 'This browser does not support WebRTC.',
  };
  return new CallingError('signalling', type, messages[type] ?? err.message, { cause: err });
}

export function isTaken(err: unknown): boolean {
  return err instanceof CallingError && err.code === 'unavailable-id';
}

export function newCallId(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}
