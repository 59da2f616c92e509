/**
 * The conference service boundary. Everything outside `src/server/conference` (the REST routes, the calling server,
 * `npm start`) talks to conferences only through `ConferenceBackend`. The built-in backend mixes audio itself
 * (`ConferenceService`, run in a child process through `ConferenceProcess`); a deployment that outgrows one machine
 * implements this interface once over an SFU/MCU (LiveKit, Janus AudioBridge) and keeps the same client API.
 */
import { CallingError, type ErrorDomain } from '../../core/errors.js';

/** Who a participant is: an app user, or (through the gateway) a phone number or SIP address. */
export type ParticipantKind = 'user' | 'phone' | 'sip';

export interface ParticipantView {
  /** The participant's identity in the room (user id, E.164 number or SIP address): the `{pid}` of the REST API. */
  id: string;
  kind: ParticipantKind;
  displayName?: string;
  /** `ringing`: called out by REST, not answered yet; `connecting`: answered, media not up yet; `joined`: in the mix. */
  state: 'ringing' | 'connecting' | 'joined';
  /** Muted by themselves or by the REST API. */
  muted: boolean;
  /** Muted through the REST API (the participant cannot unmute themselves). */
  mutedByServer: boolean;
  /** The participant put the call on hold: out of the mix (not heard, hears nothing) but still in the room. */
  onHold: boolean;
  speaking: boolean;
  /** How the participant came: they called the room, or the room called them (REST callout). */
  direction: 'incoming' | 'outgoing';
  callId: string;
  joinedAt: string | null;
}

export interface RoomView {
  id: string;
  createdAt: string;
  participants: ParticipantView[];
}

/** What `POST /conferences/{id}/participants` asks for. */
export type CalloutTarget = { userId: string } | { phoneNumber: string } | { sipAddress: string };

/** An event for the call records (join / leave, with the per-participant duration). */
export interface RoomEvent {
  type: 'room-created' | 'room-removed' | 'participant-joined' | 'participant-left';
  conferenceId: string;
  at: string;
  participantId?: string;
  callId?: string;
  /** participant-joined: the peer id of the participant's device (for a user rung on several: the one that answered). */
  peerId?: string;
  direction?: 'incoming' | 'outgoing';
  /** participant-left: seconds in the room (0 if never joined), and why it ended. */
  durationSeconds?: number;
  cause?: string;
}

export interface ConferenceLimits {
  /** Most participants in one room, ringing callouts included. Default 20 (`CONFERENCE_MAX_PARTICIPANTS`). */
  maxParticipants: number;
  /** Most rooms on this server. Default 50 (`CONFERENCE_MAX_ROOMS`). */
  maxRooms: number;
  /** How long an empty room is kept before it is removed (ms). Default 10 000 (`CONFERENCE_EMPTY_TIMEOUT_MS`). */
  emptyRoomTimeout: number;
}

export const DEFAULT_LIMITS: ConferenceLimits = { maxParticipants: 20, maxRooms: 50, emptyRoomTimeout: 10_000 };

/**
 * The audio codec of the participants' WebRTC legs (`CONFERENCE_CODEC`): `opus` (48 kHz, what browsers prefer), `g722`
 * (16 kHz wideband, far cheaper to encode and decode on the mixing server) or `pcmu` (G.711, 8 kHz, phone quality).
 * A participant that does not offer the codec gets what it offered first (the call still works).
 */
export type ConferenceCodec = 'opus' | 'g722' | 'pcmu';
export const CONFERENCE_CODECS: readonly ConferenceCodec[] = ['opus', 'g722', 'pcmu'];
/** G.722: at 20 participants the mixing process needed ≈ 16 % less CPU than with Opus (README, "Codec A/B"). */
export const DEFAULT_CODEC: ConferenceCodec = 'g722';

/** The rtpmap names a codec setting restricts the legs to (none for `opus`: the browser's own order, Opus first). */
export function audioCodecsFor(codec: ConferenceCodec): string[] {
  return codec === 'g722' ? ['G722'] : codec === 'pcmu' ? ['PCMU'] : [];
}

export function isConferenceCodec(x: unknown): x is ConferenceCodec {
  return typeof x === 'string' && (CONFERENCE_CODECS as readonly string[]).includes(x);
}

/** The one interface the rest of the server uses for conferences (see the module comment). */
export interface ConferenceBackend {
  getRoom(conferenceId: string): Promise<RoomView>;
  listRooms(): Promise<RoomView[]>;
  /** Calls a user (or, through the gateway, a number / SIP address) into the room; resolves once the call is placed. */
  addParticipant(conferenceId: string, target: CalloutTarget, options?: { displayName?: string; chargeTo?: string }): Promise<ParticipantView>;
  setMuted(conferenceId: string, participantId: string, muted: boolean): Promise<ParticipantView>;
  removeParticipant(conferenceId: string, participantId: string): Promise<void>;
  endRoom(conferenceId: string): Promise<void>;
}

/** Typed conference failures; `status` is the HTTP status the REST API answers with. */
export type ConferenceErrorCode =
  | 'invalid-conference-id' | 'not-a-conference' | 'not-found' | 'participant-not-found' | 'conference-full'
  | 'too-many-conferences' | 'already-in-room' | 'gateway-unavailable' | 'invalid-participant' | 'service-unavailable';

const STATUS: Record<ConferenceErrorCode, number> = {
  'invalid-conference-id': 400, 'not-a-conference': 400, 'invalid-participant': 400, 'not-found': 404,
  'participant-not-found': 404, 'conference-full': 409, 'already-in-room': 409, 'too-many-conferences': 503,
  'gateway-unavailable': 501, 'service-unavailable': 503,
};
const DOMAIN: Record<ConferenceErrorCode, ErrorDomain> = {
  'invalid-conference-id': 'argument', 'not-a-conference': 'argument', 'invalid-participant': 'argument', 'not-found': 'api',
  'participant-not-found': 'api', 'conference-full': 'capability', 'already-in-room': 'api', 'too-many-conferences': 'capability',
  'gateway-unavailable': 'capability', 'service-unavailable': 'network',
};

export class ConferenceError extends CallingError {
  readonly status: number;
  constructor(override readonly code: ConferenceErrorCode, message: string) {
    super(DOMAIN[code], code, message);
    this.status = STATUS[code];
  }
  static isCode(x: unknown): x is ConferenceErrorCode {
    return typeof x === 'string' && x in STATUS;
  }
}

/** Conference ids as the SDK validates them: 1 to 64 letters, digits, '.', '-' or '_'. */
export const CONFERENCE_ID = /^[A-Za-z0-9_.-]{1,64}$/;

export function assertRoomId(id: unknown): asserts id is string {
  if (typeof id !== 'string' || !CONFERENCE_ID.test(id)) {
    throw new ConferenceError('invalid-conference-id', 'A conference id is 1 to 64 letters, digits, ".", "-" or "_".');
  }
}
