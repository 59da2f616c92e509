// The "missed since you last looked" count of the widget's Recent view. It lives with <call-history> (in its lazy
// chunk): the widget only shows the number.
import type { CallClient } from '../../core/index.js';
import { missedSince } from '../../core/call-history.js';

/** Where the time a user last looked at their recent calls is kept (this browser only). */
const seenKey = (userId: string) => `calling-elements:recent-seen:${userId}`;

/** Notes that the user looked at their recent calls now. */
export function markRecentSeen(userId: string): void {
  try {
    localStorage.setItem(seenKey(userId), String(Date.now()));
  } catch {
    // storage refused (private mode, sandboxed frame): the count starts over on the next page load
  }
}

/** How many calls the user missed since they last looked (the newest 50 calls are enough for a badge). */
export async function missedSinceSeen(client: CallClient): Promise<number> {
  let seen = 0;
  try {
    seen = Number(localStorage.getItem(seenKey(client.userId))) || 0;
  } catch {
    // no storage: every missed call counts
  }
  return missedSince(await client.getCallHistory({ limit: 50 }), seen);
}
