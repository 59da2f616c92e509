import { CallingError } from './errors.js';
import { CONFERENCE_PEER_ID, DTMF_DIGITS, GATEWAY_PEER_ID } from './protocol.js';

// Every `check…` below returns the typed `argument` error for a bad value (its `code` says which rule failed; an
// element shows `code` in its own words) or undefined for a good one; every `assert…` throws that error.

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/g;

/** True when `text` contains a C0 control character or DEL (line breaks and tabs included). */
export function hasControlChars(text: string): boolean {
  CONTROL_CHARS.lastIndex = 0;
  return CONTROL_CHARS.test(text);
}

function throwIf(error: CallingError | undefined): void {
  if (error) throw error;
}

const RESERVED_IDS: ReadonlySet<string> = new Set([GATEWAY_PEER_ID, CONFERENCE_PEER_ID]);

/** Longest accepted user id. */
export const MAX_USER_ID_LENGTH = 64;

// PeerJS accepts ids of letters and digits with single '-' or '_' between them; user ids map 1:1 onto peer ids.
const USER_ID = /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/;

/** Why `userId` is not a usable user id (`invalid-user-id`, `reserved-user-id`). `what` names the field in the message. */
export function checkUserId(userId: unknown, what = 'user id'): CallingError | undefined {
  const bad = (message: string, code = 'invalid-user-id') => new CallingError('argument', code, message);
  if (typeof userId !== 'string' || userId.length === 0) return bad(`The ${what} must be a non-empty string.`);
  if (userId.length > MAX_USER_ID_LENGTH) return bad(`The ${what} is longer than ${MAX_USER_ID_LENGTH} characters.`);
  if (hasControlChars(userId)) return bad(`The ${what} contains control characters.`);
  if (RESERVED_IDS.has(userId.toLowerCase())) return bad(`The ${what} "${userId}" is reserved for the calling service.`, 'reserved-user-id');
  if (!USER_ID.test(userId)) return bad(`The ${what} "${userId}" may only contain letters, digits, and single '-' or '_' between them.`);
  return undefined;
}

/** Throws a typed `argument` error unless `userId` is a usable user id. `what` names the field in the message. */
export function assertUserId(userId: unknown, what = 'user id'): asserts userId is string {
  throwIf(checkUserId(userId, what));
}

/** Display names are free text, but bounded and free of control characters. */
export function cleanDisplayName(name: unknown): string | undefined {
  if (typeof name !== 'string') return undefined;
  const cleaned = name.replace(CONTROL_CHARS, '').trim().slice(0, 128);
  return cleaned || undefined;
}

/** E.164 with the required '+': "+14155550101". */
export const E164 = /^\+[1-9]\d{1,14}$/;

/** Why `number` is not an E.164 phone number (`invalid-phone-number`). */
export function checkPhoneNumber(number: unknown): CallingError | undefined {
  if (typeof number === 'string' && E164.test(number)) return undefined;
  return new CallingError('argument', 'invalid-phone-number', 'A phone number must be in E.164 form with a leading "+" and 2 to 15 digits, e.g. "+14155550101".');
}

export function assertPhoneNumber(number: unknown): asserts number is string {
  throwIf(checkPhoneNumber(number));
}

// user@domain[:port]: the user part is SIP "unreserved / escaped / user-unreserved" characters (RFC 3261 25.1).
const SIP_USER = /^[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}$/;
const SIP_HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

/** Why `identity` is not a SIP address the gateway can call (`invalid-sip-address`). */
export function checkSipAddress(identity: unknown): CallingError | undefined {
  const fail = (why: string) => new CallingError('argument', 'invalid-sip-address', `A SIP address must look like "user@domain"${why}.`);
  if (typeof identity !== 'string') return fail('');
  const at = identity.lastIndexOf('@');
  if (at <= 0) return fail('');
  const user = identity.slice(0, at);
  // `;transport=tcp` (or udp) picks how the gateway reaches the far end (RFC 3261 §19.1.1); no other URI parameter.
  const hostPort = identity.slice(at + 1).replace(/;transport=(?:udp|tcp)$/i, '');
  const m = /^([^:]+)(?::(\d{1,5}))?$/.exec(hostPort);
  if (!SIP_USER.test(user)) return fail(' (the user part has characters SIP does not allow)');
  if (!m || !SIP_HOST.test(m[1])) return fail(' (the domain is not valid)');
  if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) return fail(' (the port must be 1 to 65535)');
  return undefined;
}

export function assertSipAddress(identity: unknown): asserts identity is string {
  throwIf(checkSipAddress(identity));
}

/** Most bytes custom headers may take together (names + values). */
export const MAX_HEADERS_BYTES = 1024;
// RFC 3261 "token" characters.
const SIP_TOKEN = /^[A-Za-z0-9\-.!%*_+`'~]+$/;

/**
 * Why one custom header is not allowed: its name must start with "x-" (any case) and be a SIP token of at most 64
 * characters (`invalid-header-name`); its value must be text without CR, LF or other control characters
 * (`invalid-header-value`).
 */
export function checkHeader(name: string, value: unknown): CallingError | undefined {
  if (!/^x-/i.test(name) || !SIP_TOKEN.test(name) || name.length > 64) {
    return new CallingError('argument', 'invalid-header-name', `Header "${name}" is not allowed: custom header names start with "x-" and use only letters, digits and - . ! % * _ + \` ' ~.`);
  }
  if (typeof value !== 'string' || hasControlChars(value)) {
    return new CallingError('argument', 'invalid-header-value', `Header "${name}" must be text without line breaks or control characters.`);
  }
  return undefined;
}

/**
 * Why custom call headers are not allowed: each as `checkHeader` says, all together within 1 KB
 * (`headers-too-large`), and an object of name → value strings (`invalid-header`).
 */
export function checkHeaders(headers: unknown): CallingError | undefined {
  if (headers === undefined) return undefined;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    return new CallingError('argument', 'invalid-header', 'Headers must be an object of name → value strings.');
  }
  let bytes = 0;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    const bad = checkHeader(name, value);
    if (bad) return bad;
    bytes += new TextEncoder().encode(name + (value as string)).length;
  }
  if (bytes <= MAX_HEADERS_BYTES) return undefined;
  return new CallingError('argument', 'headers-too-large', `Custom headers may take at most ${MAX_HEADERS_BYTES} bytes together.`);
}

/** Validates custom call headers (see `checkHeaders`); returns a clean copy. */
export function validateHeaders(headers: unknown): Record<string, string> {
  throwIf(checkHeaders(headers));
  return { ...(headers as Record<string, string> | undefined) };
}

/** Why `id` is not a conference id, 1 to 64 letters, digits, '.', '-' or '_' (`invalid-conference-id`). */
export function checkConferenceId(id: unknown): CallingError | undefined {
  if (typeof id === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(id)) return undefined;
  return new CallingError('argument', 'invalid-conference-id', 'A conference id is 1 to 64 letters, digits, ".", "-" or "_".');
}

export function assertConferenceId(id: unknown): asserts id is string {
  throwIf(checkConferenceId(id));
}

/** DTMF digits: 0-9, *, #, A-D. */
export function assertDtmf(digits: unknown): asserts digits is string {
  if (typeof digits !== 'string' || !DTMF_DIGITS.test(digits)) {
    throw new CallingError('argument', 'invalid-dtmf', 'DTMF digits are 0-9, *, # and A-D (1 to 32 of them).');
  }
}
