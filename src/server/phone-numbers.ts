/**
 * The server's one phone-number check, used by the gateway, the REST API and conference callouts: E.164 syntax (the
 * browser's own cheap check, `assertPhoneNumber`), then `libphonenumber-js` metadata — a number that cannot exist
 * (wrong length for its country) is refused, and numbers of blocked types (default premium rate, toll fraud's usual
 * route) are refused before anything is dialed. Server-only: the metadata stays out of the browser bundle.
 */
import { parsePhoneNumberFromString, type NumberType } from 'libphonenumber-js/max';
import { CallingError } from '../core/errors.js';
import { assertPhoneNumber } from '../core/validation.js';
import { TEST_NUMBER } from './gateway/test-number.js';

export type PhoneNumberType = Exclude<NumberType, undefined>;

export const PHONE_NUMBER_TYPES: readonly PhoneNumberType[] = [
  'PREMIUM_RATE', 'TOLL_FREE', 'SHARED_COST', 'VOIP', 'PERSONAL_NUMBER', 'PAGER', 'UAN', 'VOICEMAIL', 'FIXED_LINE', 'MOBILE', 'FIXED_LINE_OR_MOBILE',
];
export const DEFAULT_BLOCKED_NUMBER_TYPES: readonly PhoneNumberType[] = ['PREMIUM_RATE'];

/** Parses `SIP_BLOCK_NUMBER_TYPES` (comma-separated type names, `none` for none). Throws on an unknown name. */
export function blockedNumberTypes(value: string | undefined): PhoneNumberType[] {
  if (value === undefined || value.trim() === '') return [...DEFAULT_BLOCKED_NUMBER_TYPES];
  if (value.trim().toLowerCase() === 'none') return [];
  return value.split(',').map((t) => t.trim().toUpperCase()).filter(Boolean).map((t) => {
    if (!(PHONE_NUMBER_TYPES as readonly string[]).includes(t)) throw new Error(`SIP_BLOCK_NUMBER_TYPES: "${t}" is not one of ${PHONE_NUMBER_TYPES.join(', ')}`);
    return t as PhoneNumberType;
  });
}

/** True for E.164 numbers that can exist (the free test number included). For schema refinements. */
export function isPossiblePhoneNumber(number: unknown): number is string {
  try {
    assertPossiblePhoneNumber(number);
    return true;
  } catch {
    return false;
  }
}

export const PHONE_NUMBER_RULE = 'a possible E.164 phone number such as +14155550101';

/** Throws a typed `argument` error unless `number` is E.164 and possible for its country. */
export function assertPossiblePhoneNumber(number: unknown): asserts number is string {
  assertPhoneNumber(number);
  if (number === TEST_NUMBER) return;
  const parsed = parsePhoneNumberFromString(number);
  if (!parsed?.isPossible()) {
    throw new CallingError('argument', 'invalid-phone-number', `${number} is not a possible phone number (wrong length for its country code).`);
  }
}

/**
 * The gateway's check before dialing: possible (see above) and not of a blocked type. A blocked type throws an `api`
 * error `number-type-blocked`.
 */
export function assertDialablePhoneNumber(number: unknown, blockedTypes: readonly PhoneNumberType[] = DEFAULT_BLOCKED_NUMBER_TYPES): asserts number is string {
  assertPossiblePhoneNumber(number);
  if (number === TEST_NUMBER || !blockedTypes.length) return;
  const type = parsePhoneNumberFromString(number)?.getType();
  if (type && blockedTypes.includes(type)) {
    throw new CallingError('api', 'number-type-blocked', `Calls to ${type.toLowerCase().replace(/_/g, ' ')} numbers are not allowed.`);
  }
}
