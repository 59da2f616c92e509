/** HTTP digest authentication for SIP (RFC 3261 §22, RFC 2617): MD5 and MD5-sess, qop "auth" or none. */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm?: string;
  qop?: string[];
  stale?: boolean;
}

export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*Digest\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
  for (let r = re.exec(m[1]); r; r = re.exec(m[1])) params[r[1].toLowerCase()] = r[2] ?? r[3];
  if (params.realm === undefined || !params.nonce) return undefined;
  return {
    realm: params.realm,
    nonce: params.nonce,
    ...(params.opaque !== undefined ? { opaque: params.opaque } : {}),
    ...(params.algorithm ? { algorithm: params.algorithm } : {}),
    ...(params.qop ? { qop: params.qop.split(',').map((s) => s.trim().toLowerCase()) } : {}),
    ...(params.stale ? { stale: params.stale.toLowerCase() === 'true' } : {}),
  };
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/** The `Authorization` / `Proxy-Authorization` value answering `challenge` for `method` on `uri`. */
export function authorize(challenge: Challenge, method: string, uri: string, username: string, password: string, nc = 1): string {
  const algorithm = (challenge.algorithm ?? 'MD5').toUpperCase();
  const cnonce = randomBytes(8).toString('hex');
  let ha1 = md5(`${username}:${challenge.realm}:${password}`);
  if (algorithm === 'MD5-SESS') ha1 = md5(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = md5(`${method}:${uri}`);
  const useQop = challenge.qop?.includes('auth');
  const ncs = nc.toString(16).padStart(8, '0');
  const response = useQop ? md5(`${ha1}:${challenge.nonce}:${ncs}:${cnonce}:auth:${ha2}`) : md5(`${ha1}:${challenge.nonce}:${ha2}`);
  const parts = [
    `username=${quote(username)}`, `realm=${quote(challenge.realm)}`, `nonce=${quote(challenge.nonce)}`, `uri=${quote(uri)}`,
    `response=${quote(response)}`, `algorithm=${algorithm === 'MD5-SESS' ? 'MD5-sess' : 'MD5'}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (useQop) parts.push('qop=auth', `nc=${ncs}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}
