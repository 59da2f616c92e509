/**
 * The call-control protocol: small JSON messages on a PeerJS DataConnection, one connection per call.
 * Browsers speak it to each other, and the gateway and conference services speak it too.
 *
 * Flow (caller → callee): the `invite` travels as the connection's metadata, so the callee learns of the call as
 * soon as the connection request arrives. The callee replies `ringing` once it has shown the call, then `answer`
 * or `deny`. The caller may `cancel` before an answer; either side may `hangup` afterwards. Media flows on a
 * separate PeerJS MediaConnection carrying the same `callId` in its metadata.
 */
import type { CallEndCause, CallType } from './types.js';
import type { ErrorDomain } from './errors.js';

export const PROTOCOL_VERSION = 1;

/** The gateway's peer id: phone (`callType: 'phone'`) and SIP (`'sip'`) calls are invites sent to it. */
export const GATEWAY_PEER_ID = 'calling-gateway';
/** The conference service's peer id: `callType: 'conference'` invites go to it, `to` is the conference id. */
export const CONFERENCE_PEER_ID = 'calling-conference';

export interface InviteMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'invite';
  callId: string;
  /** Caller's user id. */
  from: string;
  displayName?: string;
  /** What is being called: a user (default), a phone number, a SIP address or a conference. */
  callType: CallType;
  /** The destination: user id, E.164 number, SIP identity or conference id. */
  to: string;
  video: boolean;
  headers: Record<string, string>;
}
/**
 * From a service (gateway, conference): it is working on the call (e.g. the gateway sent the SIP INVITE) but has
 * nothing to show yet. A service that took the invite must send something within the caller's `connectTimeout`.
 */
export interface ProgressMessage { v: typeof PROTOCOL_VERSION; type: 'progress'; callId: string }
/** `displayName` on `ringing` and `answer`: the callee's name, so the caller can show who it is calling. */
export interface RingingMessage { v: typeof PROTOCOL_VERSION; type: 'ringing'; callId: string; displayName?: string }
export interface AnswerMessage { v: typeof PROTOCOL_VERSION; type: 'answer'; callId: string; video: boolean; displayName?: string }
/** `allDevices`: the callee declines on every device (else the caller keeps ringing the user's other devices). */
export interface DenyMessage { v: typeof PROTOCOL_VERSION; type: 'deny'; callId: string; allDevices?: boolean }
export interface CancelMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'cancel';
  callId: string;
  /** `otherDeviceAnswered`, `denied`: a call that rang several devices of the callee was answered / declined on another. */
  reason: 'canceled' | 'noAnswer' | 'timeout' | 'failure' | 'otherDeviceAnswered' | 'denied';
}
export interface WireError { domain: ErrorDomain; code: string; message: string; sipStatus?: number; sipReason?: string }
export interface HangupMessage {
  v: typeof PROTOCOL_VERSION;
  type: 'hangup';
  callId: string;
  reason: CallEndCause;
  error?: WireError;
}

/** Tells the other side that this side muted its microphone or paused its camera (shown in the UI). */
export interface MediaStateMessage { v: typeof PROTOCOL_VERSION; type: 'media'; callId: string; audioMuted: boolean; videoPaused: boolean }

/** What a `dtmf` message may carry: 1 to 32 of 0-9, *, #, A-D. */
export const DTMF_DIGITS = /^[0-9*#A-D]{1,32}$/;
/** DTMF digits for phone and SIP calls (the gateway sends them as RFC 4733 telephone-events). */
export interface DtmfMessage { v: typeof PROTOCOL_VERSION; type: 'dtmf'; callId: string; digits: string }

/**
 * The sender put the call on hold (`onHold: true`) or resumed it. The receiver stops sending media while held and
 * shows that it is held (`isRemoteOnHold`); the gateway turns it into a SIP re-INVITE (`a=sendonly` / `a=sendrecv`)
 * and sends it for the far end's hold; the conference service takes a held participant out of the mix.
 */
export interface HoldMessage { v: typeof PROTOCOL_VERSION; type: 'hold'; callId: string; onHold: boolean }

/**
 * The sender started (`sharing: true`) or stopped sharing its screen: its video track now carries the screen (the
 * receiver shows it whole, `isRemoteScreenSharing`). Services ignore it.
 */
export interface ScreenShareMessage { v: typeof PROTOCOL_VERSION; type: 'screenshare'; callId: string; sharing: boolean }

/**
 * A conference room's participant as the conference service describes it; `onHold`: they put the call on hold and
 * are out of the mix (absent from services older than hold: not on hold).
 */
export interface WireParticipant { id: string; displayName?: string; muted: boolean; speaking: boolean; onHold?: boolean }
/** Conference calls: the service sends the whole participant list (this user included) whenever it changes. */
export interface ParticipantsMessage { v: typeof PROTOCOL_VERSION; type: 'participants'; callId: string; participants: WireParticipant[] }

export type ControlMessage =
  | InviteMessage | ProgressMessage | RingingMessage | AnswerMessage | DenyMessage | CancelMessage | HangupMessage | MediaStateMessage
  | DtmfMessage | ParticipantsMessage | HoldMessage | ScreenShareMessage;
export type ControlMessageType = ControlMessage['type'];

const END_CAUSES: ReadonlySet<string> = new Set<CallEndCause>([
  'hungUp', 'denied', 'canceled', 'noAnswer', 'unavailable', 'timeout', 'failure', 'otherDeviceAnswered',
]);
const CANCEL_REASONS: ReadonlySet<string> = new Set(['canceled', 'noAnswer', 'timeout', 'failure', 'otherDeviceAnswered', 'denied']);
const CALL_TYPES: ReadonlySet<string> = new Set<CallType>(['user', 'phone', 'sip', 'conference']);
const DOMAINS: ReadonlySet<string> = new Set<ErrorDomain>(['argument', 'capability', 'network', 'signalling', 'media', 'sip', 'api']);

const MAX_ID = 128;
const MAX_TEXT = 512;
const MAX_HEADERS = 32;
const MAX_PARTICIPANTS = 256;

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
function isText(x: unknown, max = MAX_TEXT): x is string {
  return typeof x === 'string' && x.length <= max;
}
function isId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_ID;
}
function parseHeaders(x: unknown): Record<string, string> | undefined {
  if (x === undefined) return {};
  if (!isObject(x)) return undefined;
  const entries = Object.entries(x);
  if (entries.length > MAX_HEADERS) return undefined;
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (!isText(k, 64) || !isText(v)) return undefined;
    out[k] = v;
  }
  return out;
}
function parseWireError(x: unknown): WireError | undefined {
  if (!isObject(x) || typeof x.domain !== 'string' || !DOMAINS.has(x.domain) || !isText(x.code, 64) || !isText(x.message)) {
    return undefined;
  }
  const err: WireError = { domain: x.domain as ErrorDomain, code: x.code, message: x.message };
  if (typeof x.sipStatus === 'number' && Number.isInteger(x.sipStatus)) err.sipStatus = x.sipStatus;
  if (isText(x.sipReason, 128)) err.sipReason = x.sipReason;
  return err;
}

/** The callee's name on `ringing` / `answer` is optional: a bad one is left out, the message still counts. */
function calleeName(x: unknown): { displayName?: string } {
  return isText(x, 128) ? { displayName: x } : {};
}

/**
 * Validates anything received from the wire. Returns the typed message, or `undefined` for anything malformed,
 * of another protocol version, or unknown: such input is dropped, never thrown.
 */
export function parseControlMessage(data: unknown): ControlMessage | undefined {
  if (!isObject(data) || data.v !== PROTOCOL_VERSION || !isId(data.callId)) return undefined;
  const base = { v: PROTOCOL_VERSION, callId: data.callId } as const;
  switch (data.type) {
    case 'invite': {
      const headers = parseHeaders(data.headers);
      const callType = data.callType ?? 'user';
      if (!isId(data.from) || !isId(data.to) || typeof data.video !== 'boolean' || !headers) return undefined;
      if (typeof callType !== 'string' || !CALL_TYPES.has(callType)) return undefined;
      if (data.displayName !== undefined && !isText(data.displayName, 128)) return undefined;
      return {
        ...base, type: 'invite', from: data.from, to: data.to, callType: callType as CallType, video: data.video, headers,
        ...(data.displayName === undefined ? {} : { displayName: data.displayName }),
      };
    }
    case 'progress':
      return { ...base, type: 'progress' };
    case 'ringing':
      return { ...base, type: data.type, ...calleeName(data.displayName) };
    case 'deny':
      if (data.allDevices !== undefined && typeof data.allDevices !== 'boolean') return undefined;
      return { ...base, type: 'deny', ...(data.allDevices === true ? { allDevices: true } : {}) };
    case 'answer':
      return typeof data.video === 'boolean' ? { ...base, type: 'answer', video: data.video, ...calleeName(data.displayName) } : undefined;
    case 'media':
      return typeof data.audioMuted === 'boolean' && typeof data.videoPaused === 'boolean'
        ? { ...base, type: 'media', audioMuted: data.audioMuted, videoPaused: data.videoPaused }
        : undefined;
    case 'hold':
      return typeof data.onHold === 'boolean' ? { ...base, type: 'hold', onHold: data.onHold } : undefined;
    case 'screenshare':
      return typeof data.sharing === 'boolean' ? { ...base, type: 'screenshare', sharing: data.sharing } : undefined;
    case 'dtmf':
      return typeof data.digits === 'string' && DTMF_DIGITS.test(data.digits)
        ? { ...base, type: 'dtmf', digits: data.digits }
        : undefined;
    case 'participants': {
      if (!Array.isArray(data.participants) || data.participants.length > MAX_PARTICIPANTS) return undefined;
      const participants: WireParticipant[] = [];
      for (const p of data.participants as unknown[]) {
        if (!isObject(p) || !isId(p.id) || typeof p.muted !== 'boolean' || typeof p.speaking !== 'boolean') return undefined;
        if (p.displayName !== undefined && !isText(p.displayName, 128)) return undefined;
        if (p.onHold !== undefined && typeof p.onHold !== 'boolean') return undefined;
        participants.push({
          id: p.id, muted: p.muted, speaking: p.speaking,
          ...(p.displayName === undefined ? {} : { displayName: p.displayName }), ...(p.onHold === undefined ? {} : { onHold: p.onHold }),
        });
      }
      return { ...base, type: 'participants', participants };
    }
    case 'cancel':
      return typeof data.reason === 'string' && CANCEL_REASONS.has(data.reason)
        ? { ...base, type: 'cancel', reason: data.reason as CancelMessage['reason'] }
        : undefined;
    case 'hangup': {
      if (typeof data.reason !== 'string' || !END_CAUSES.has(data.reason)) return undefined;
      const msg: HangupMessage = { ...base, type: 'hangup', reason: data.reason as CallEndCause };
      if (data.error !== undefined) {
        const error = parseWireError(data.error);
        if (!error) return undefined;
        msg.error = error;
      }
      return msg;
    }
    default:
      return undefined;
  }
}

type WithoutEnvelope<M> = M extends ControlMessage ? Omit<M, 'v' | 'callId'> : never;
/** The payload of a message, without the envelope fields the sender fills in. */
export type ControlPayload = WithoutEnvelope<ControlMessage>;

/** Builds a message with the envelope filled in. */
export function controlMessage(callId: string, payload: ControlPayload): ControlMessage {
  return { v: PROTOCOL_VERSION, callId, ...payload } as ControlMessage;
}

/** Largest encoded message accepted from the wire (characters). */
const MAX_WIRE_CHARS = 65_536;

/**
 * The wire form of a message for a PeerJS DataConnection. Our connections use PeerJS's `raw` serialization and send
 * JSON text that we parse ourselves: PeerJS's own `json` serialization throws an uncaught TypeError in the receiving
 * page when a peer sends `null`. Connections opened by others with `json` serialization still get objects.
 */
export function encodeControl(serialization: string, message: ControlMessage): string | ControlMessage {
  return serialization === 'raw' ? JSON.stringify(message) : message;
}

/** Parses what a DataConnection delivered (JSON text or an object); `undefined` for anything invalid. */
export function decodeControl(data: unknown): ControlMessage | undefined {
  if (typeof data !== 'string') return parseControlMessage(data);
  if (data.length > MAX_WIRE_CHARS) return undefined;
  try {
    return parseControlMessage(JSON.parse(data));
  } catch {
    return undefined;
  }
}

/**
 * Messages of the calling server itself on the signalling socket (PeerJS ignores types it does not know); the
 * server's side is `src/server/auth/signalling-auth.ts` and `src/server/storage/call-recorder.ts`.
 * `DEVICES`: a query for the peer ids a user has online, and its answer (see `devices.ts`).
 * `TOKEN`: a renewed token for this session, before the old one expires.
 * `CALL-END`: how a call ended, for the server's call records.
 * `CALL-HISTORY`: a query for the signed-in user's own recent calls, and its answer (see `call-history.ts`).
 */
export const DEVICES_MESSAGE = 'DEVICES';
export const TOKEN_MESSAGE = 'TOKEN';
export const CALL_END_MESSAGE = 'CALL-END';
export const CALL_HISTORY_MESSAGE = 'CALL-HISTORY';

/** What a `CALL-END` carries (code and message cut to what the server keeps). */
export interface CallEndReport {
  callId: string;
  cause: CallEndCause;
  error?: { domain: ErrorDomain; code: string; message: string };
}

/** The `CALL-END` payload for a call that ended with `cause` (and `error`). */
export function callEndReport(callId: string, cause: CallEndCause, error?: { domain: ErrorDomain; code: string; message: string }): CallEndReport {
  return { callId, cause, ...(error ? { error: { domain: error.domain, code: error.code.slice(0, 64), message: error.message.slice(0, 512) } } : {}) };
}

/**
 * ICE restarts travel over the signalling socket, not the call's DataConnection: when a call's media path breaks, its
 * data channel shares the broken path. The calling server relays `{"type":"ICE-RESTART","dst","payload"}` between
 * signed-in peers only, with `src` set to the sender it authenticated (see `src/server/auth/signalling-auth.ts`).
 * The caller sends an `offer` (made with `iceRestart: true`) for each of the call's PeerJS connections, the callee
 * answers each; the new ICE candidates trickle as PeerJS's own `CANDIDATE` messages.
 */
export const ICE_RESTART_MESSAGE = 'ICE-RESTART';

export interface IceRestartPayload {
  callId: string;
  /** The PeerJS connection (media or data) the description belongs to. */
  connectionId: string;
  sdp: { type: 'offer' | 'answer'; sdp: string };
}

/** Largest session description an ICE restart may carry (characters; no candidates in it, they trickle). */
export const MAX_RESTART_SDP = 32_768;

/** Validates an ICE restart's payload; `undefined` for anything malformed or too big. Returns only the known fields. */
export function parseIceRestart(x: unknown): IceRestartPayload | undefined {
  if (!isObject(x) || !isId(x.callId) || !isId(x.connectionId) || !isObject(x.sdp)) return undefined;
  const { type, sdp } = x.sdp;
  if ((type !== 'offer' && type !== 'answer') || typeof sdp !== 'string' || !sdp.startsWith('v=0') || sdp.length > MAX_RESTART_SDP) {
    return undefined;
  }
  return { callId: x.callId, connectionId: x.connectionId, sdp: { type, sdp } };
}

/**
 * Server → client, on the signalling socket right after the server authenticated it and again before the credentials
 * expire: `{"type":"ICE-SERVERS","payload":{"iceServers":[{urls,username,credential}],"expiresAt":<ms>}}`, the TURN
 * servers with credentials minted for this user (see `src/core/ice-servers.ts`, `src/server/turn/`).
 */
export const ICE_SERVERS_MESSAGE = 'ICE-SERVERS';
