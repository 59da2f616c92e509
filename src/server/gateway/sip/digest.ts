/**
 * HTTP digest authentication for SIP (RFC 3261 §22, RFC 8760 / RFC 7616): MD5, SHA-256 and SHA-512/256, each also
 * in its `-sess` form; qop "auth" or none. A response may carry several challenges (one per algorithm, RFC 8760 §2.4):
 * `pickChallenge` takes the strongest one we support.
 */
import { createHash, randomBytes } from 'node:crypto';

export interface Challenge {
  realm: string;
  nonce: string;
  opaque?: string;
  algorithm?: string;
  qop?: string[];
  stale?: boolean;
}

/** Supported algorithms, weakest first (the index is the strength). */
const ALGORITHMS = ['MD5', 'SHA-256', 'SHA-512-256'] as const;
const HASH: Record<(typeof ALGORITHMS)[number], string> = { MD5: 'md5', 'SHA-256': 'sha256', 'SHA-512-256': 'sha512-256' };

function baseAlgorithm(algorithm: string | undefined): (typeof ALGORITHMS)[number] | undefined {
  const a = (algorithm ?? 'MD5').toUpperCase().replace(/-SESS$/, '');
  return (ALGORITHMS as readonly string[]).includes(a) ? (a as (typeof ALGORITHMS)[number]) : undefined;
}

export function parseChallenge(header: string): Challenge | undefined {
  const m = /^\s*Digest\s+(.*)$/is.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]+))/g;
  for (let r = re.exec(m[1]); r; r = re.exec(m[1])) params[r[1].toLowerCase()] ??= r[2] ?? r[3];
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

/**
 * Every digest challenge in the given header values (`WWW-Authenticate` or `Proxy-Authenticate`; one header may
 * also hold several challenges separated by commas), with the strongest supported algorithm first. Challenges with
 * an algorithm we do not know are left out.
 */
export function parseChallenges(values: readonly string[]): Challenge[] {
  const out: Challenge[] = [];
  for (const v of values) {
    // Split before each "Digest " that starts a new challenge (outside quotes).
    const parts: string[] = [];
    let cur = '';
    let quoted = false;
    for (let i = 0; i < v.length; i++) {
      const c = v[i];
      if (c === '"' && v[i - 1] !== '\\') quoted = !quoted;
      if (!quoted && c === ',' && /^,\s*Digest\s/i.test(v.slice(i, i + 12))) {
        parts.push(cur);
        cur = '';
        continue;
      }
      cur += c;
    }
    parts.push(cur);
    for (const p of parts) {
      const ch = parseChallenge(p);
      if (ch && baseAlgorithm(ch.algorithm)) out.push(ch);
    }
  }
  const rank = (c: Challenge) => ALGORITHMS.indexOf(baseAlgorithm(c.algorithm)!);
  return out.sort((a, b) => rank(b) - rank(a));
}

/** The strongest supported challenge among the header values, if any. */
export function pickChallenge(values: readonly string[]): Challenge | undefined {
  return parseChallenges(values)[0];
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/** The `Authorization` / `Proxy-Authorization` value answering `challenge` for `method` on `uri`. */
export function authorize(
  challenge: Challenge, method: string, uri: string, username: string, password: string, nc = 1, cnonce = randomBytes(8).toString('hex'),
): string {
  const base = baseAlgorithm(challenge.algorithm);
  if (!base) throw new Error(`unsupported digest algorithm ${challenge.algorithm}`);
  const sess = /-sess$/i.test(challenge.algorithm ?? '');
  const h = (s: string) => createHash(HASH[base]).update(s).digest('hex');
  let ha1 = h(`${username}:${challenge.realm}:${password}`);
  if (sess) ha1 = h(`${ha1}:${challenge.nonce}:${cnonce}`);
  const ha2 = h(`${method}:${uri}`);
  const useQop = challenge.qop?.includes('auth');
  const ncs = nc.toString(16).padStart(8, '0');
  const response = useQop ? h(`${ha1}:${challenge.nonce}:${ncs}:${cnonce}:auth:${ha2}`) : h(`${ha1}:${challenge.nonce}:${ha2}`);
  const parts = [
    `username=${quote(username)}`, `realm=${quote(challenge.realm)}`, `nonce=${quote(challenge.nonce)}`, `uri=${quote(uri)}`,
    `response=${quote(response)}`, `algorithm=${base}${sess ? '-sess' : ''}`,
  ];
  if (challenge.opaque !== undefined) parts.push(`opaque=${quote(challenge.opaque)}`);
  if (useQop) parts.push('qop=auth', `nc=${ncs}`, `cnonce=${quote(cnonce)}`);
  return `Digest ${parts.join(', ')}`;
}
