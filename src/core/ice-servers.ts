import { ICE_SERVERS_MESSAGE } from './protocol.js';

const MAX_SERVERS = 8;

/**
 * The TURN servers the calling server hands a client on its signalling socket (`ICE-SERVERS`, sent right after the
 * socket is authenticated and again before the credentials expire), read by the transport: only `turn:` / `turns:` /
 * `stun:` URLs and string credentials, at most eight servers; anything else is not a list.
 */
export function iceServersIn(message: unknown): RTCIceServer[] | undefined {
  const { type, payload } = (message ?? {}) as { type?: unknown; payload?: { iceServers?: unknown } };
  const list = type === ICE_SERVERS_MESSAGE ? payload?.iceServers : undefined;
  if (!Array.isArray(list) || list.length > MAX_SERVERS) return undefined;
  const out: RTCIceServer[] = [];
  for (const s of list as Array<{ urls?: unknown; username?: unknown; credential?: unknown }>) {
    const urls = typeof s?.urls === 'string' ? [s.urls] : s?.urls;
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string' && /^(turns?|stun):/.test(u))) return undefined;
    if (typeof s.username !== 'string' || typeof s.credential !== 'string') return undefined;
    out.push({ urls: urls as string[], username: s.username, credential: s.credential });
  }
  return out;
}
