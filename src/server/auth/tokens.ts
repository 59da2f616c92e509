/**
 * Signalling tokens: HS256 JWTs signed with the application's secret (`CALLING_SECRET`).
 *
 * - A user token's subject (`sub`) is the user id it may register; a token opens exactly one signalling connection
 *   (fresh `jti` each time; the server refuses a `jti` it has seen), so clients mint or fetch one per connect.
 * - A service token (`mintServiceToken`) is the only way to register a reserved id (the gateway's and the conference
 *   service's, see `src/core/protocol.ts`); user tokens for those ids are refused.
 */
import { randomUUID } from 'node:crypto';
import { SignJWT, errors as joseErrors, jwtVerify } from 'jose';
import { CONFERENCE_PEER_ID, GATEWAY_PEER_ID } from '../../core/protocol.js';
import { assertUserId } from '../../core/validation.js';
import { parsePeerId } from '../../core/devices.js';

/** Peer ids only services may register. */
export const RESERVED_PEER_IDS: ReadonlySet<string> = new Set([GATEWAY_PEER_ID, CONFERENCE_PEER_ID]);

/** Default lifetime of a user token: 1 hour. */
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/** Longest lifetime a token may be minted with: 24 hours. */
export const MAX_TOKEN_TTL_SECONDS = 86_400;
const ISSUER = 'calling-elements';
const ALGORITHM = 'HS256';

export interface MintedToken {
  token: string;
  /** Expiry, ms since the epoch. */
  expiresAt: number;
  jti: string;
}

/** Why a token was refused. `message` is shown to the client as is: it names the reason, never the secret. */
export type TokenFailure =
  | 'missing' | 'malformed' | 'bad-signature' | 'expired' | 'wrong-subject' | 'reserved-id' | 'replayed';

export class TokenError extends Error {
  override readonly name = 'TokenError';
  constructor(readonly reason: TokenFailure, message: string) {
    super(message);
  }
}

export interface VerifiedToken {
  sub: string;
  jti: string;
  /** ms since the epoch */
  expiresAt: number;
  service: boolean;
}

/** The secret as key bytes. Secrets shorter than 32 bytes are refused: HS256 needs a strong key. */
export function secretKey(secret: string): Uint8Array {
  const key = new TextEncoder().encode(secret);
  if (key.length < 32) throw new Error('The calling secret must be at least 32 bytes long.');
  return key;
}

async function mint(secret: string, sub: string, ttlSeconds: number, service: boolean): Promise<MintedToken> {
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TOKEN_TTL_SECONDS) {
    throw new RangeError(`ttlSeconds must be an integer from 1 to ${MAX_TOKEN_TTL_SECONDS}.`);
  }
  const jti = randomUUID();
  const now = Math.floor(Date.now() / 1000);
  const exp = now + ttlSeconds;
  const token = await new SignJWT(service ? { svc: true } : {})
    .setProtectedHeader({ alg: ALGORITHM, typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(ISSUER)
    .setJti(jti)
    .setIssuedAt(now)
    .setExpirationTime(exp)
    .sign(secretKey(secret));
  return { token, expiresAt: exp * 1000, jti };
}

/**
 * Mints a token that lets `userId` register on the signalling server. Throws a `CallingError` (`argument`) for an
 * invalid or reserved user id.
 */
export async function mintUserToken(secret: string, userId: string, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS): Promise<MintedToken> {
  assertUserId(userId);
  return mint(secret, userId, ttlSeconds, false);
}

/**
 * Mints a token for a calling service (the gateway: `GATEWAY_PEER_ID`, the conference service: `CONFERENCE_PEER_ID`)
 * to register its reserved peer id. Mint one per connection, like user tokens:
 *
 * ```ts
 * const { token } = await mintServiceToken(process.env.CALLING_SECRET!, GATEWAY_PEER_ID);
 * new Peer(GATEWAY_PEER_ID, { host, port, path: '/peerjs', key: 'peerjs', token });
 * ```
 */
export async function mintServiceToken(secret: string, id: string, ttlSeconds = DEFAULT_TOKEN_TTL_SECONDS): Promise<MintedToken> {
  if (!RESERVED_PEER_IDS.has(id)) throw new RangeError(`"${id}" is not a reserved service id.`);
  return mint(secret, id, ttlSeconds, true);
}

/**
 * Verifies a token presented for peer id `id`: signature (HS256 only), issuer, expiry, subject = `id` (or `id` is
 * `<subject> <deviceTag>`, a device of that user), and that reserved ids carry a service token and no device tag.
 * Throws a `TokenError` naming the reason. Replay is checked by the caller.
 */
export async function verifyToken(secret: string, token: string | undefined | null, id: string): Promise<VerifiedToken> {
  if (!token) throw new TokenError('missing', 'No token was presented.');
  let payload;
  try {
    ({ payload } = await jwtVerify(token, secretKey(secret), { algorithms: [ALGORITHM], issuer: ISSUER }));
  } catch (err) {
    if (err instanceof joseErrors.JWTExpired) throw new TokenError('expired', 'The token has expired.');
    if (err instanceof joseErrors.JWSSignatureVerificationFailed) {
      throw new TokenError('bad-signature', 'The token signature is invalid.');
    }
    throw new TokenError('malformed', 'The token is not a valid calling token.');
  }
  if (typeof payload.sub !== 'string' || typeof payload.jti !== 'string' || typeof payload.exp !== 'number') {
    throw new TokenError('malformed', 'The token lacks a subject, id or expiry.');
  }
  // A user's devices register `<sub>` or `<sub> <deviceTag>` (see src/core/devices.ts).
  const parsed = parsePeerId(id);
  if (!parsed) throw new TokenError('malformed', 'The peer id is not a user id with an optional device tag.');
  if (payload.sub !== parsed.userId) throw new TokenError('wrong-subject', 'The token was issued for another user id.');
  const service = payload.svc === true;
  if (RESERVED_PEER_IDS.has(parsed.userId.toLowerCase()) && !(service && RESERVED_PEER_IDS.has(id))) {
    throw new TokenError('reserved-id', 'This id is reserved for the calling service.');
  }
  return { sub: payload.sub, jti: payload.jti, expiresAt: payload.exp * 1000, service };
}

/** Remembers token ids until they expire, so that each token opens at most one connection. */
export class ReplayGuard {
  private readonly seen = new Map<string, number>();
  private lastPrune = Date.now();

  /** Records `jti`; false when it was already used. */
  use(jti: string, expiresAt: number): boolean {
    const now = Date.now();
    if (now - this.lastPrune > 60_000) {
      this.lastPrune = now;
      for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    }
    if (this.seen.has(jti)) return false;
    this.seen.set(jti, expiresAt);
    return true;
  }
}
