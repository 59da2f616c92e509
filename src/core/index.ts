/**
 * The calling SDK: no Lit, no custom elements. `import { CallClient } from 'calling-elements/core'`.
 */
export { CallClient } from './call-client.js';
export type { CallClientOptions } from './client-options.js';
export type { ConnectionState, TokenSource } from './types.js';
export type { CallTimings } from './call-host.js';
export { CallingError } from './errors.js';
export type { CallHistoryEntry, CallHistoryOptions, HistoryEndCause } from './call-history.js';
export * from './audio/index.js';
export {
  IncomingCallNotifier, IncomingCallNotificationEvent, NotificationPermissionDeniedEvent, NOTIFICATION_CLICK_MESSAGE, ANSWER_ACTION,
} from './notifications.js';
export type { LocalNotification, LocalNotificationFactory, NotificationEventMap } from './notifications.js';
export type { CallStats, QualityWarningName, QualityThresholds } from './quality.js';
export type { DeviceKind, MediaDevice, MediaDeviceLists } from './media-devices.js';
export type { ErrorDomain } from './errors.js';
export * from './events.js';
export type { CallDetails, CallDirection, CallEndCause, CallParticipant, CallState, CallType } from './types.js';
export { PROTOCOL_VERSION, GATEWAY_PEER_ID, CONFERENCE_PEER_ID, parseControlMessage, controlMessage } from './protocol.js';
export type { ControlMessage, ControlMessageType, InviteMessage } from './protocol.js';
export {
  assertUserId, assertPhoneNumber, assertSipAddress, assertConferenceId, assertDtmf, validateHeaders, MAX_USER_ID_LENGTH, E164,
  checkUserId, checkPhoneNumber, checkSipAddress, checkConferenceId, checkHeader, checkHeaders,
} from './validation.js';
