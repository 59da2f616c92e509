import { CallingError } from './errors.js';
import { CONFERENCE_PEER_ID, GATEWAY_PEER_ID } from './protocol.js';

const RESERVED_IDS: ReadonlySet<string> = new Set([GATEWAY_PEER_ID, CONFERENCE_PEER_ID]);

/** Longest accepted user id. */
export const MAX_USER_ID_LENGTH = 64;

// PeerJS accepts ids of letters and digits with single '-' or '_' between them; user ids map 1:1 onto peer ids.
const USER_ID = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/;

/** Throws a typed `argument` error unless `userId` is a usable user id. `what` names the field in the message. */
export function assertUserId(userId: unknown, what = 'user id'): asserts userId is string {
  if (typeof userId !== 'string' || userId.length === 0) {
    throw new CallingError('argument', 'invalid-user-id', `The ${what} must be a non-empty string.`);
  }
  if (userId.length > MAX_USER_ID_LENGTH) {
    throw new CallingError('argument', 'invalid-user-id', `The ${what} is longer than ${MAX_USER_ID_LENGTH} characters.`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(userId)) {
    throw new CallingError('argument', 'invalid-user-id', `The ${what} contains control characters.`);
  }
  if (RESERVED_IDS.has(userId.toLowerCase())) {
    throw new CallingError('argument', 'reserved-user-id', `The ${what} "${userId}" is reserved for the calling service.`);
  }
  if (!USER_ID.test(userId)) {
    throw new CallingError(
      'argument',
      'invalid-user-id',
      `The ${what} "${userId}" may only contain letters, digits, and single '-' or '_' between them.`,
    );
  }
}

/** Display names are free text, but bounded and free of control characters. */
export function cleanDisplayName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  // eslint-disable-next-line no-control-regex
  const cleaned = name.replace(/[\u0000-\u001f\u007f]/g, '').trim().slice(0, 128);
  return cleaned || undefined;
}

/** E.164 with the required '+': "+14155550101". */
export const E164 = /^\+[1-9]\d{1,14}$/;

export function assertPhoneNumber(number: unknown): asserts number is string {
  if (typeof number !== 'string' || !E164.test(number)) {
    throw new CallingError(
      'argument',
      'invalid-phone-number',
      'A phone number must be in E.164 form with a leading "+" and 2 to 15 digits, e.g. "+14155550101".',
    );
  }
}

// user@domain[:port]: the user part is SIP "unreserved / escaped / user-unreserved" characters (RFC 3261 25.1).
const SIP_USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$/;
const SIP_HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

export function assertSipAddress(identity: unknown): asserts identity is string {
  const fail = (why: string) => new CallingError('argument', 'invalid-sip-address', `A SIP address must look like "user@domain"${why}.`);
  if (typeof identity !== 'string') throw fail('');
  const at = identity.lastIndexOf('@');
  if (at <= 0) throw fail('');
  const user = identity.slice(0, at);
  // `;transport=tcp` (or udp) picks how the gateway reaches the far end (RFC 3261 §19.1.1); no other URI parameter.
  const hostPort = identity.slice(at + 1).replace(/;transport=(?:udp|tcp)$/i, '');
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (!SIP_USER.test(user)) throw fail(' (the user part has characters SIP does not allow)');
  if (!m || !SIP_HOST.test(m[1])) throw fail(' (the domain is not valid)');
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) throw fail(' (the port must be 1 to 65535)');
}

/** Most bytes custom headers may take together (names + values). */
export const MAX_HEADERS_BYTES = 1024;
// RFC 3261 "token" characters.
const SIP_TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Validates custom call headers: names start with "x-" (any case) and are SIP tokens, values have no CR, LF or
 * other control characters, and all of them together stay within 1 KB. Returns a clean copy.
 */
export function validateHeaders(headers: unknown): Record<string, string> {
  if (headers === undefined) return {};
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    throw new CallingError('argument', 'invalid-header', 'Headers must be an object of name → value strings.');
  }
  const out: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (!/^x-/i.test(name) || !SIP_TOKEN.test(name) || name.length > 64) {
      throw new CallingError('argument', 'invalid-header', `Header "${name}" is not allowed: custom header names start with "x-" and use only letters, digits and - . ! % * _ + \` ' ~.`);
    }
    // eslint-disable-next-line no-control-regex
    if (typeof value !== 'string' || /[\u0000-\u001f\u007f]/.test(value)) {
      throw new CallingError('argument', 'invalid-header', `Header "${name}" must be text without line breaks or control characters.`);
    }
    bytes += new TextEncoder().encode(name + value).length;
    out[name] = value;
  }
  if (bytes > MAX_HEADERS_BYTES) {
    throw new CallingError('argument', 'invalid-header', `Custom headers may take at most ${MAX_HEADERS_BYTES} bytes together.`);
  }
  return out;
}

/** Conference ids: 1 to 64 letters, digits, '.', '-' or '_'. */
export function assertConferenceId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !/^[A-Za-z0-9_.-]{1,64}$/.test(id)) {
    throw new CallingError('argument', 'invalid-conference-id', 'A conference id is 1 to 64 letters, digits, ".", "-" or "_".');
  }
}

/** DTMF digits: 0-9, *, #, A-D. */
export function assertDtmf(digits: unknown): asserts digits is string {
  if (typeof digits !== 'string' || !/^[0-9*#A-D]{1,32}$/.test(digits)) {
    throw new CallingError('argument', 'invalid-dtmf', 'DTMF digits are 0-9, *, # and A-D (1 to 32 of them).');
  }
}
