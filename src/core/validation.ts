import { CallingError } from './errors.js';

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
