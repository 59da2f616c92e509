/**
 * Several devices per user. A user's first device online registers the plain user id as its PeerJS peer id; every
 * further device registers `<userId> <deviceTag>` (one space: PeerJS ids allow single spaces between letter/digit
 * runs, and user ids never contain one, so the two cannot clash). The signalling server tells callers which peer ids
 * a user has online (`DEVICES` messages over the signalling socket), and callers ring every one of them.
 */

/** A device tag: 1 to 32 letters and digits. */
export const DEVICE_TAG = /^[A-Za-z0-9]{1,32}$/;

/** Most devices a user may have online at once (the server refuses further ones). */
export const MAX_DEVICES_PER_USER = 16;

/** The peer id of a user's device. */
export function devicePeerId(userId: string, deviceTag: string): string {
  return `${userId} ${deviceTag}`;
}

/** The user id a peer id belongs to (the peer id itself when it has no device tag). */
export function userOfPeer(peerId: string): string {
  const space = peerId.indexOf(' ');
  return space < 0 ? peerId : peerId.slice(0, space);
}

/** The peer ids of `userId` in the `devices` of a `DEVICES` answer (anything else is dropped), at most 32. */
export function devicesIn(devices: unknown, userId: string): string[] {
  const list = Array.isArray(devices) ? devices : [];
  return list.filter((d): d is string => typeof d === 'string' && d.length <= 128 && userOfPeer(d) === userId).slice(0, 32);
}

/** Splits a peer id into user id and device tag; `undefined` when the part after the space is not a device tag. */
export function parsePeerId(peerId: string): { userId: string; deviceTag?: string } | undefined {
  const space = peerId.indexOf(' ');
  if (space < 0) return { userId: peerId };
  const deviceTag = peerId.slice(space + 1);
  return space > 0 && DEVICE_TAG.test(deviceTag) ? { userId: peerId.slice(0, space), deviceTag } : undefined;
}

/** A random device tag (10 letters and digits). */
export function newDeviceTag(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...crypto.getRandomValues(new Uint8Array(10))].map((b) => alphabet[b % alphabet.length]).join('');
}
