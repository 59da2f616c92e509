/**
 * TURN credentials with the TURN REST API convention coturn implements (`use-auth-secret` +
 * `static-auth-secret`): username `<expiry unix time>:<userId>`, credential base64(HMAC-SHA1(secret, username)).
 * coturn checks both itself, so a credential is good for any of its servers until the expiry and for nothing after.
 */
import { createHmac } from 'node:crypto';

export interface TurnSettings {
  /** `turn:` / `turns:` URIs, e.g. `turn:turn.example.com:3478?transport=udp`. */
  urls: string[];
  /** coturn's `static-auth-secret`. */
  secret: string;
  /** Credential lifetime (s). Default 3600. */
  ttl?: number;
}

export interface MintedIceServers {
  iceServers: RTCIceServer[];
  /** When the credentials stop working (ms since the epoch). */
  expiresAt: number;
}

export const DEFAULT_TURN_TTL = 3600;
/**
 * Lifetime of the credentials the server's own child processes (gateway, conference) get when they start: they
 * hold them in memory for their whole run, and they never leave this machine.
 */
export const SERVICE_TURN_TTL = 30 * 86_400;
const TURN_URL = /^turns?:[^\s?#]+(\?transport=(udp|tcp))?$/;

/** Credentials for `userId`, valid for `ttl` seconds from `now`. */
export function mintTurnCredentials(settings: TurnSettings, userId: string, now = Date.now()): MintedIceServers {
  const expiry = Math.floor(now / 1000) + (settings.ttl ?? DEFAULT_TURN_TTL);
  const username = `${expiry}:${userId}`;
  const credential = createHmac('sha1', settings.secret).update(username).digest('base64');
  return { iceServers: [{ urls: [...settings.urls], username, credential }], expiresAt: expiry * 1000 };
}

/**
 * `TURN_URLS`, `TURN_SECRET`, `TURN_TTL` (undefined when TURN_URLS is unset). Throws an `Error` whose message is
 * the one line to show an operator.
 */
export function turnSettingsFromEnv(env: NodeJS.ProcessEnv): TurnSettings | undefined {
  const raw = env.TURN_URLS?.trim();
  if (!raw) {
    if (env.TURN_SECRET) throw new Error('TURN_SECRET is set but TURN_URLS is not: set TURN_URLS (e.g. turn:turn.example.com:3478?transport=udp).');
    return undefined;
  }
  const urls = raw.split(',').map((u) => u.trim()).filter(Boolean);
  const bad = urls.find((u) => !TURN_URL.test(u));
  if (bad !== undefined) throw new Error(`TURN_URLS: "${bad}" is not a turn: or turns: URI (e.g. turn:turn.example.com:3478?transport=udp).`);
  const secret = env.TURN_SECRET ?? '';
  if (secret.length < 16) throw new Error('TURN_SECRET (coturn\'s static-auth-secret) must be set, at least 16 characters, when TURN_URLS is.');
  const ttl = env.TURN_TTL === undefined || env.TURN_TTL === '' ? DEFAULT_TURN_TTL : Number(env.TURN_TTL);
  if (!Number.isInteger(ttl) || ttl < 5 || ttl > 7 * 86_400) throw new Error(`TURN_TTL must be a whole number of seconds from 5 to 604800 (got "${env.TURN_TTL}").`);
  return { urls, secret, ttl };
}
