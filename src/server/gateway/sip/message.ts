/**
 * SIP messages (RFC 3261 §7): a typed parser and serializer.
 *
 * Why our own and not npm `sip` 0.0.6: that package is unmaintained and, measured on this machine, refuses to send
 * when the target host equals the local address (127.0.0.1 both ends), counts `Content-Length` in characters
 * instead of bytes, writes headers as latin1 and uses 6-digit branch ids. Parsing and serializing are small; the
 * parts where bugs hide (transactions, retransmission, digest) are tested against real `sipp` and `baresip`.
 *
 * Safety: the serializer refuses any header name that is not a token and any value with CR, LF or other control
 * characters, so nothing a browser sends can inject a header (a second line of defence after the SDK's checks).
 */

export interface SipUri {
  scheme: 'sip' | 'sips' | 'tel';
  user?: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

export interface NameAddr {
  display?: string;
  uri: SipUri;
  params: Record<string, string | null>;
}

export type Header = [name: string, value: string];

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  headers: Header[];
  body: Buffer;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: Header[];
  body: Buffer;
}

export type SipMessage = SipRequest | SipResponse;

const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type', f: 'from', s: 'subject',
  k: 'supported', t: 'to', v: 'via',
};

const CANONICAL: Record<string, string> = {
  'call-id': 'Call-ID', cseq: 'CSeq', 'www-authenticate': 'WWW-Authenticate', via: 'Via', 'content-length': 'Content-Length',
};

/** Lower-case long form of a header name. */
export function normName(name: string): string {
  const n = name.trim().toLowerCase();
  return COMPACT[n] ?? n;
}

function canonicalName(name: string): string {
  const n = normName(name);
  if (CANONICAL[n]) return CANONICAL[n];
  return n.replace(/(^|-)([a-z])/g, (_m, d: string, c: string) => d + c.toUpperCase());
}

/** RFC 3261 token characters. */
export const TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Throws unless the header can be written safely (token name; value without CR, LF or control characters). */
export function assertSafeHeader(name: string, value: string): void {
  if (!TOKEN.test(name)) throw new Error(`unsafe SIP header name ${JSON.stringify(name)}`);
  if (CONTROL.test(value)) throw new Error(`unsafe SIP header value for ${name}`);
}

export function getHeader(m: SipMessage, name: string): string | undefined {
  const n = normName(name);
  return m.headers.find(([k]) => k === n)?.[1];
}

/** All values of a header, with comma-separated lists split (outside quotes and <>). */
export function getHeaders(m: SipMessage, name: string): string[] {
  const n = normName(name);
  const out: string[] = [];
  for (const [k, v] of m.headers) if (k === n) out.push(...splitList(v));
  return out;
}

export function splitList(v: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '"' && v[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '<') angle = true;
    else if (!quoted && c === '>') angle = false;
    if (c === ',' && !quoted && !angle) {
      if (cur.trim()) out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

/** Parses one datagram. Returns undefined for anything malformed (dropped, never thrown). */
export function parseMessage(buf: Buffer): SipMessage | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const head = buf.subarray(0, end).toString('utf8');
  const lines = head.split('\r\n');
  const start = lines.shift() ?? '';
  // Unfold continuation lines.
  const unfolded: string[] = [];
  for (const l of lines) {
    if (/^[ \t]/.test(l) && unfolded.length) unfolded[unfolded.length - 1] += ' ' + l.trim();
    else unfolded.push(l);
  }
  const headers: Header[] = [];
  for (const l of unfolded) {
    const i = l.indexOf(':');
    if (i <= 0) return undefined;
    headers.push([normName(l.slice(0, i)), l.slice(i + 1).trim()]);
  }
  let body = buf.subarray(end + 4);
  const cl = headers.find(([k]) => k === 'content-length');
  if (cl) {
    const n = Number(cl[1]);
    if (!Number.isInteger(n) || n < 0 || n > body.length) return undefined;
    body = body.subarray(0, n);
  }
  body = Buffer.from(body);
  const resp = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (resp) return { kind: 'response', status: Number(resp[1]), reason: resp[2], headers, body };
  const req = /^([A-Za-z]+) (\S+) SIP\/2\.0$/.exec(start);
  if (req) return { kind: 'request', method: req[1].toUpperCase(), uri: req[2], headers, body };
  return undefined;
}

/** Serializes with a byte-exact Content-Length; throws on unsafe headers. */
export function serialize(m: SipMessage): Buffer {
  let s = m.kind === 'request' ? `${m.method} ${m.uri} SIP/2.0\r\n` : `SIP/2.0 ${m.status} ${m.reason}\r\n`;
  if (m.kind === 'request') assertSafeHeader('x', m.uri);
  for (const [k, v] of m.headers) {
    if (k === 'content-length') continue;
    const name = canonicalName(k);
    assertSafeHeader(name, v);
    s += `${name}: ${v}\r\n`;
  }
  s += `Content-Length: ${m.body.length}\r\n\r\n`;
  return Buffer.concat([Buffer.from(s, 'utf8'), m.body]);
}

export function parseUri(s: string): SipUri | undefined {
  const m = /^(sips?|tel):(?:([^@;?]+)@)?([^;?]+)((?:;[^?]*)?)(?:\?.*)?$/i.exec(s.trim());
  if (!m) return undefined;
  let host = m[3];
  let port: number | undefined;
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(host);
  if (!hp) return undefined;
  host = hp[1];
  if (hp[2]) port = Number(hp[2]);
  const uri: SipUri = { scheme: m[1].toLowerCase() as SipUri['scheme'], host, params: parseParams(m[4]) };
  if (m[2] !== undefined) uri.user = m[2];
  if (port !== undefined) uri.port = port;
  return uri;
}

export function stringifyUri(u: SipUri): string {
  return `${u.scheme}:${u.user !== undefined ? u.user + '@' : ''}${u.host}${u.port ? ':' + u.port : ''}${stringifyParams(u.params)}`;
}

export function parseParams(s: string): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const part of s.split(';')) {
    const p = part.trim();
    if (!p) continue;
    const i = p.indexOf('=');
    if (i < 0) out[p.toLowerCase()] = null;
    else out[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim();
  }
  return out;
}

export function stringifyParams(p: Record<string, string | null>): string {
  return Object.entries(p).map(([k, v]) => (v === null ? `;${k}` : `;${k}=${v}`)).join('');
}

export function parseNameAddr(s: string): NameAddr | undefined {
  const t = s.trim();
  const m = /^(?:"((?:[^"\\]|\\.)*)"|([^<"]*?))\s*<([^>]+)>(.*)$/.exec(t);
  if (m) {
    const uri = parseUri(m[3]);
    if (!uri) return undefined;
    const display = (m[1] ?? m[2] ?? '').trim();
    return { ...(display ? { display } : {}), uri, params: parseParams(m[4]) };
  }
  // addr-spec without <>: parameters after the URI belong to the header.
  const semi = t.indexOf(';');
  const uri = parseUri(semi < 0 ? t : t.slice(0, semi));
  if (!uri) return undefined;
  return { uri, params: semi < 0 ? {} : parseParams(t.slice(semi)) };
}

export function stringifyNameAddr(a: NameAddr): string {
  const display = a.display ? `"${a.display.replace(/["\\]/g, '')}" ` : '';
  return `${display}<${stringifyUri(a.uri)}>${stringifyParams(a.params)}`;
}

export interface Via { transport: string; host: string; port?: number; params: Record<string, string | null> }

export function parseVia(s: string): Via | undefined {
  const m = /^SIP\s*\/\s*2\.0\s*\/\s*(\S+)\s+([^;\s]+)\s*(.*)$/i.exec(s.trim());
  if (!m) return undefined;
  const hp = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(m[2]);
  if (!hp) return undefined;
  return { transport: m[1].toUpperCase(), host: hp[1], ...(hp[2] ? { port: Number(hp[2]) } : {}), params: parseParams(m[3]) };
}

export function parseCSeq(s: string | undefined): { seq: number; method: string } | undefined {
  const m = /^(\d+)\s+([A-Za-z]+)$/.exec((s ?? '').trim());
  return m ? { seq: Number(m[1]), method: m[2].toUpperCase() } : undefined;
}
