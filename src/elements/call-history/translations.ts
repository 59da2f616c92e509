import type { HistoryTranslation } from '../shared/localize.js';

/**
 * `<call-history>`'s strings in the built-in languages, shipped in its chunk. A translation registered with a
 * `history` member wins over these.
 */
export const historyTranslations: Readonly<Record<string, HistoryTranslation>> = {
  en: {
    recentCalls: 'Recent calls',
    loading: 'Loading calls…',
    empty: 'No calls yet',
    error: 'The recent calls could not be loaded.',
    retry: 'Try again',
    loadMore: 'Show more',
    callBack: (name) => `Call ${name} back`,
    outgoingCall: 'Outgoing call',
    missedCall: 'Missed call',
  },
  sv: {
    recentCalls: 'Senaste samtal',
    loading: 'Hämtar samtal…',
    empty: 'Inga samtal än',
    error: 'De senaste samtalen kunde inte hämtas.',
    retry: 'Försök igen',
    loadMore: 'Visa fler',
    callBack: (name) => `Ring upp ${name}`,
    outgoingCall: 'Utgående samtal',
    missedCall: 'Missat samtal',
  },
};
