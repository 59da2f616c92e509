// The lazy chunk of `<call-history>` (see loader.ts): loading it defines the tag (elements already in the page
// upgrade) and hands over the missed-call helpers, e.g. for a badge (the widget's count of calls missed since the
// user last looked: recent-seen.ts).
export { CallHistoryElement, isMissed, missedSince } from './define.js';
export { markRecentSeen, missedSinceSeen } from './recent-seen.js';
