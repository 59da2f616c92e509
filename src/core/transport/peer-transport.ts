/**
 * The call-level side of one registered PeerJS peer, the same in the browser (`CallClient`) and in Node (`NodePeer`):
 * which incoming connections may start a call, media offers that overtake their invite, dialing a call's two
 * connections, PeerServer's "peer unavailable", and the calling server's own messages on the signalling socket
 * (device lists, ICE restarts, renewed tokens, call-end reports). Whoever owns the peer decides what a call does;
 * this only moves connections and messages. No DOM, no Lit.
 */
import type { DataConnection, MediaConnection, Peer, PeerOptions } from 'peerjs';
import { CallingError } from '../errors.js';
import { devicesIn } from '../devices.js';
import { iceServersIn } from '../ice-servers.js';
import {
  CALL_END_MESSAGE, callEndReport, DEVICES_MESSAGE, ICE_RESTART_MESSAGE, ICE_SERVERS_MESSAGE, parseControlMessage, parseIceRestart, TOKEN_MESSAGE,
  type IceRestartPayload, type InviteMessage,
} from '../protocol.js';
import type { CallEndCause } from '../types.js';
import type { ErrorDomain } from '../errors.js';

export interface PeerTransportHandlers {
  /** Whether a valid invite may start a call now (e.g. calling is on and no call has its id yet). */
  accepts(invite: InviteMessage): boolean;
  /** A new incoming call: its control connection, and the invite it carried. */
  invite(data: DataConnection, invite: InviteMessage): void;
  /** A media offer for call `callId`; false when there is no such call yet (the offer is then held for it). */
  media(callId: string, media: MediaConnection): boolean;
  /** PeerServer could not reach `peerId` (`undefined` when its message did not say which). */
  unavailable(peerId: string | undefined): void;
  /** An ICE restart's description for one of our calls, from the signed-in peer `src`. */
  iceRestart?(src: string, restart: IceRestartPayload): void;
  /** The TURN servers (with credentials) the calling server hands this peer; again before they expire. */
  iceServers?(servers: RTCIceServer[]): void;
}

/** PeerServer's answer for an absent peer: "Could not connect to peer <id>" (device ids contain a space). */
const UNAVAILABLE_PEER = /Could not connect to peer (.+)$/;

/** PeerJS options for the calling server at `server` (signalling on its `/peerjs` path). Throws an `argument` error. */
export function peerServerOptions(server: unknown): Pick<PeerOptions, 'host' | 'port' | 'path' | 'secure' | 'key'> {
  let url: URL;
  try {
    url = new URL(String(server));
  } catch {
    throw new CallingError('argument', 'invalid-server', `The server must be a URL such as "http://localhost:9000" (got "${String(server)}").`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CallingError('argument', 'invalid-server', 'The server URL must start with http:// or https://.');
  }
  const secure = url.protocol === 'https:';
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : secure ? 443 : 80,
    path: `${url.pathname.replace(/\/+$/, '')}/peerjs`,
    secure,
    key: 'peerjs',
  };
}

export class PeerTransport {
  private readonly held = new Map<string, { media: MediaConnection; timer: ReturnType<typeof setTimeout> }>();
  private readonly queries = new Map<string, { userId: string; done: (devices: string[] | undefined) => void }>();
  private nextQuery = 1;
  private closed = false;

  /** `holdMs`: how long a media offer waits for its invite. */
  constructor(readonly peer: Peer, private readonly handlers: PeerTransportHandlers, private readonly holdMs: number) {
    peer.on('connection', (data) => this.onConnection(data));
    peer.on('call', (media) => this.onMedia(media));
    peer.on('error', (err) => {
      if (err.type === 'peer-unavailable' && !this.closed) this.handlers.unavailable(UNAVAILABLE_PEER.exec(err.message)?.[1]);
    });
    peer.socket.on('message', (message: unknown) => this.onServerMessage(message));
  }

  /** Opens a call to `peerId`: the control connection carrying the invite, and the media offer with `stream`. */
  dial(peerId: string, invite: InviteMessage, stream: MediaStream, options: { sdpTransform?: (sdp: string) => string } = {}): { data: DataConnection; media: MediaConnection } {
    const data = this.peer.connect(peerId, { reliable: true, serialization: 'raw', metadata: invite });
    const media = this.peer.call(peerId, stream, { metadata: { callId: invite.callId }, ...(options.sdpTransform ? { sdpTransform: options.sdpTransform } : {}) });
    return { data, media };
  }

  /** The media offer of call `callId` that arrived before its invite, if any (it is no longer held). */
  takeHeldMedia(callId: string): MediaConnection | undefined {
    const held = this.held.get(callId);
    if (!held) return undefined;
    clearTimeout(held.timer);
    this.held.delete(callId);
    return held.media;
  }

  /** Closes a held media offer of call `callId` (the call ended before its media arrived). */
  dropHeldMedia(callId: string): void {
    this.takeHeldMedia(callId)?.close();
  }

  /**
   * The peer ids `userId` has online, asked of the calling server (`DEVICES`). `[]` when none, `undefined` when the
   * server did not answer within `timeoutMs` (an older server) or the transport closed.
   */
  queryDevices(userId: string, timeoutMs: number): Promise<string[] | undefined> {
    const requestId = `q${this.nextQuery++}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (devices: string[] | undefined) => {
        clearTimeout(timer);
        this.queries.delete(requestId);
        resolve(devices);
      };
      this.queries.set(requestId, { userId, done });
      if (!this.sendToServer(DEVICES_MESSAGE, { requestId, userId })) done([]);
    });
  }

  /** Tells the server's call records how a call ended (stock PeerServer ignores it). */
  reportCallEnd(callId: string, cause: CallEndCause, error?: { domain: ErrorDomain; code: string; message: string }): boolean {
    if (this.peer.destroyed || this.peer.disconnected) return false;
    return this.sendToServer(CALL_END_MESSAGE, callEndReport(callId, cause, error));
  }

  /** An ICE restart's description to `dst`, relayed by the server (the call's data channel may share the broken path). */
  sendIceRestart(dst: string, restart: IceRestartPayload): void {
    this.sendToServer(ICE_RESTART_MESSAGE, restart, dst);
  }

  /** Renews the session's token now (the server closes a session whose token expired). */
  sendToken(token: string): void {
    this.sendToServer(TOKEN_MESSAGE, token);
  }

  /** The token PeerJS presents when it reconnects (read by PeerJS from its options; a used JWT must not be replayed). */
  setReconnectToken(token: string): void {
    (this.peer.options as { token?: string }).token = token;
  }

  /** Closes held media and answers pending device queries with `undefined`; the peer itself stays. */
  close(): void {
    this.closed = true;
    for (const { media, timer } of this.held.values()) {
      clearTimeout(timer);
      media.close();
    }
    this.held.clear();
    for (const { done } of [...this.queries.values()]) done(undefined);
  }

  private sendToServer(type: string, payload: unknown, dst?: string): boolean {
    try {
      this.peer.socket.send({ type, payload, dst }); // JSON: an undefined `dst` is left out
      return true;
    } catch {
      return false;
    }
  }

  private onConnection(data: DataConnection): void {
    const invite = parseControlMessage(data.metadata);
    // Only 'raw' connections: PeerJS's 'json' deserializer throws on a `null` message (see encodeControl).
    if (this.closed || data.serialization !== 'raw' || !invite || invite.type !== 'invite' || !this.handlers.accepts(invite)) {
      data.close();
      return;
    }
    this.handlers.invite(data, invite);
  }

  private onMedia(media: MediaConnection): void {
    const meta: unknown = media.metadata;
    const callId = typeof meta === 'object' && meta !== null ? (meta as { callId?: unknown }).callId : undefined;
    if (typeof callId !== 'string' || this.closed) {
      media.close();
      return;
    }
    if (this.handlers.media(callId, media)) return;
    // The media offer can overtake the control connection: hold it briefly.
    const timer = setTimeout(() => {
      this.held.delete(callId);
      media.close();
    }, this.holdMs);
    this.held.set(callId, { media, timer });
  }

  private onServerMessage(message: unknown): void {
    if (typeof message !== 'object' || message === null) return;
    const { type, payload, src } = message as { type?: unknown; payload?: unknown; src?: unknown };
    if (type === ICE_RESTART_MESSAGE) {
      const restart = parseIceRestart(payload);
      if (restart && typeof src === 'string') this.handlers.iceRestart?.(src, restart);
      return;
    }
    if (type === ICE_SERVERS_MESSAGE) {
      const servers = iceServersIn(message);
      if (servers) this.handlers.iceServers?.(servers);
      return;
    }
    if (type !== DEVICES_MESSAGE || typeof payload !== 'object' || payload === null) return;
    const { requestId, devices } = payload as { requestId?: unknown; devices?: unknown };
    const query = typeof requestId === 'string' ? this.queries.get(requestId) : undefined;
    query?.done(devicesIn(devices, query.userId));
  }
}
