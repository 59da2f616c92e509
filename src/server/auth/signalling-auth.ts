/**
 * Token checks at PeerServer's WebSocket handshake, through `peer`'s `createWebSocketServer` hook.
 *
 * A refused client is upgraded, sent PeerJS's own `ERROR` message (`unauthorized: <reason>`) and closed with code
 * 4401: the PeerJS client then reports a `server-error` at once (an HTTP 401 would only show it a generic network
 * error). Accepted connections live as long as their token: a client sends a fresh one over the socket before expiry
 * (`{"type":"TOKEN","payload":"<jwt>"}`, ignored by stock PeerServer) or is closed with `unauthorized` when it expires.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { IClient, IMessage } from 'peer';
import { WebSocketServer, type ServerOptions, type WebSocket } from 'ws';
import { ReplayGuard, TokenError, verifyToken } from './tokens.js';
import { MAX_DEVICES_PER_USER, userOfPeer } from '../../core/devices.js';
import { assertUserId } from '../../core/validation.js';
import { CALL_END_MESSAGE, CALL_HISTORY_MESSAGE, DEVICES_MESSAGE, ICE_RESTART_MESSAGE, parseIceRestart, TOKEN_MESSAGE } from '../../core/protocol.js';

/** The WebSocket close code for a refused or expired token. */
export const UNAUTHORIZED_CLOSE_CODE = 4401;

export interface SignallingAuthOptions {
  secret: string;
  http: Server;
  /** PeerJS key the clients use (`?key=`). */
  key: string;
  /** Largest WebSocket frame accepted (bytes). Default 256 KiB. */
  maxPayload?: number;
  /** How often expired sessions are looked for (ms). Default 1000. */
  sweepInterval?: number;
  /** Several server nodes (`REDIS_URL`): what this class asks the cluster (see `src/server/cluster`). */
  cluster?: SignallingClusterHooks;
}

/** The cluster's side of the checks and routing in this file; absent on a single node. */
export interface SignallingClusterHooks {
  /** The replay guard across nodes; `local` is this node's own guard. */
  useJti(jti: string, expiresAt: number, local: (jti: string, expiresAt: number) => boolean): Promise<boolean>;
  /** Claims a peer id for this node: false when another node has it online. */
  claim(peerId: string): Promise<boolean>;
  /** The user's devices signed in on other nodes. */
  remoteDevicesOf(userId: string): string[];
  /** Sends a server message to a peer on another node; false when no node has it. */
  sendRemote(dst: string, message: { type: string; src?: string; dst?: string; payload?: unknown }): boolean;
}

interface Session {
  id: string;
  expiresAt: number;
  service: boolean;
}

export class SignallingAuth {
  private readonly replay = new ReplayGuard();
  private readonly sessions = new Map<WebSocket, Session>();
  /** user id → its peer ids with an authenticated socket (the plain user id and `<userId> <deviceTag>` devices). */
  private readonly devices = new Map<string, Map<string, number>>();
  /** Plain-id routing (see `route`): `<caller>\n<connectionId>` → device, `<device>\n<connectionId>` → the plain id. */
  private readonly forward = new Map<string, { device: string; caller: string; used: number }>();
  private readonly backward = new Map<string, { plain: string; caller: string; used: number }>();
  /** `<caller>\n<plain id>` → the device its connections to that plain id go to (both of a call's connections). */
  private readonly sticky = new Map<string, { device: string; used: number }>();
  /** Peer id → its PeerServer client, for the messages this class relays itself (ICE restarts). */
  private readonly clients = new Map<string, IClient>();
  private readonly sweeper: ReturnType<typeof setInterval>;
  /** Refusals by reason, for tests and monitoring. */
  readonly refusals = new Map<string, number>();

  constructor(private readonly options: SignallingAuthOptions) {
    this.sweeper = setInterval(() => this.sweep(), options.sweepInterval ?? 1000);
    this.sweeper.unref();
  }

  /** Pass as PeerServer's `createWebSocketServer`. */
  readonly createWebSocketServer = (serverOptions: ServerOptions): WebSocketServer => {
    const path = serverOptions.path ?? '/';
    // Signalling messages are SDP and small JSON: cap frames (ws's default is 100 MiB).
    const wss = new WebSocketServer({ noServer: true, path, maxPayload: this.options.maxPayload ?? 256 * 1024 });
    this.options.http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      let url: URL;
      try {
        url = new URL(req.url ?? '/', 'http://localhost');
      } catch {
        socket.destroy();
        return;
      }
      if (url.pathname !== path) {
        // Nobody else listens for upgrades on this path: do not leave the socket hanging.
        if (this.options.http.listenerCount('upgrade') === 1) socket.destroy();
        return;
      }
      socket.on('error', () => socket.destroy());
      void this.admit(wss, req, socket, head, url.searchParams);
    });
    return wss;
  };

  /** The peer ids a user has online: the plain user id and its devices (`<userId> <deviceTag>`), sorted. */
  devicesOf(userId: string): string[] {
    return [...this.peersOf(userId).keys()].sort();
  }

  /** A user's online peer ids (with socket counts), other nodes' first so that `route` prefers a local device. */
  private peersOf(userId: string): Map<string, number> {
    const local = this.devices.get(userId) ?? new Map<string, number>();
    const remote = this.options.cluster?.remoteDevicesOf(userId);
    if (!remote?.length) return local;
    return new Map([...remote.map((id) => [id, 1] as const), ...local]);
  }

  private useJti(jti: string, expiresAt: number): Promise<boolean> {
    const local = (j: string, e: number) => this.replay.use(j, e);
    return this.options.cluster ? this.options.cluster.useJti(jti, expiresAt, local) : Promise.resolve(local(jti, expiresAt));
  }

  /**
   * Call for every PeerServer `message`, before PeerServer relays it (its `message` event comes first): handles token
   * refreshes and device queries, and routes messages for a plain user id to a device (see `route`).
   */
  handleMessage(client: IClient, message: IMessage): void {
    if (message.type === (ICE_RESTART_MESSAGE as string)) {
      this.relayIceRestart(client, message);
      return;
    }
    if (RELAYED.has(message.type)) {
      this.route(client, message);
      return;
    }
    if (message.type === (DEVICES_MESSAGE as string)) {
      this.answerDevices(client, message.payload);
      return;
    }
    if (message.type !== (TOKEN_MESSAGE as string)) return;
    const socket = client.getSocket();
    const session = socket ? this.sessions.get(socket) : undefined;
    const token: unknown = message.payload;
    if (!session || typeof token !== 'string' || token.length > 4096) return;
    verifyToken(this.options.secret, token, session.id).then(
      async (verified) => {
        if (await this.useJti(verified.jti, verified.expiresAt)) session.expiresAt = Math.max(session.expiresAt, verified.expiresAt);
      },
      () => undefined, // a bad refresh changes nothing: the session still ends at its current expiry
    );
  }

  /** The user a client's socket is signed in as (its peer id may name a device); undefined for services and strangers. */
  userOf(client: IClient): string | undefined {
    const socket = client.getSocket();
    const session = socket ? this.sessions.get(socket) : undefined;
    return session && !session.service ? userOfPeer(session.id) : undefined;
  }

  /** Call for every PeerServer `connection` and `disconnect` (who is registered, for `relayIceRestart`). */
  onConnection(client: IClient): void {
    this.clients.set(client.getId(), client);
  }
  onDisconnect(client: IClient): void {
    if (this.clients.get(client.getId()) === client) this.clients.delete(client.getId());
  }

  close(): void {
    clearInterval(this.sweeper);
  }

  /**
   * `{"type":"ICE-RESTART","dst","payload":{callId,connectionId,sdp}}` (see `core/protocol.ts`): relayed to `dst`
   * when both ends are signed in, from the sender this server authenticated (a frame that names a `src` never gets
   * here, see `isWellFormedFrame`), with only the known payload fields. Malformed or oversized payloads and unknown
   * or offline targets are dropped without a word: the caller retries, and PeerServer does not queue these.
   */
  private relayIceRestart(client: IClient, message: IMessage): void {
    const socket = client.getSocket();
    const session = socket ? this.sessions.get(socket) : undefined;
    const payload = parseIceRestart(message.payload);
    if (!session || !payload || typeof message.dst !== 'string') return;
    const routed = { type: ICE_RESTART_MESSAGE, src: session.id, dst: message.dst, payload };
    this.route(client, routed as unknown as IMessage); // a caller of a plain user id reaches the device that took the call
    const target = this.clients.get(routed.dst)?.getSocket();
    if (!target && routed.dst !== session.id && this.options.cluster?.sendRemote(routed.dst, routed)) return;
    if (!target || !this.sessions.has(target) || routed.dst === session.id) return;
    try {
      target.send(JSON.stringify(routed));
    } catch {
      // the target's socket is closing: its disconnect follows
    }
  }

  /**
   * `{"type":"DEVICES","payload":{"requestId","userId"}}` from an authenticated client is answered on its socket with
   * `{"type":"DEVICES","payload":{"requestId","userId","devices":[peer ids]}}`; a malformed query gets `devices: []`
   * and an `error`. Who is online is no secret among users (a call attempt tells as much), but only signed-in
   * clients may ask.
   */
  private answerDevices(client: IClient, raw: unknown): void {
    const socket = client.getSocket();
    if (!socket || !this.sessions.has(socket)) return;
    const query = typeof raw === 'object' && raw !== null ? (raw as { requestId?: unknown; userId?: unknown }) : {};
    const requestId = typeof query.requestId === 'string' && query.requestId.length <= 64 ? query.requestId : '';
    let userId = '';
    let devices: string[] = [];
    let error: string | undefined;
    try {
      assertUserId(query.userId);
      userId = query.userId;
      devices = this.devicesOf(userId);
    } catch (err) {
      error = err instanceof Error ? err.message : 'invalid user id';
    }
    socket.send(JSON.stringify({ type: DEVICES_MESSAGE, payload: { requestId, userId, devices, ...(error ? { error } : {}) } }));
  }

  /**
   * A peer that calls a user by the plain user id (a service's callout, an older client) while the device holding
   * that id is offline reaches the user's most recently connected device instead: the `dst` of its OFFER / ANSWER /
   * CANDIDATE messages is rewritten to that device, and the device's replies on those connections come back from the
   * plain id (PeerJS finds a connection by the remote peer id). One device, not all: forking needs the caller's help
   * (the SDK's callers ring every device themselves). Routes are forgotten after two idle minutes.
   */
  private route(client: IClient, message: IMessage): void {
    const payload: unknown = message.payload;
    const connectionId = typeof payload === 'object' && payload !== null ? (payload as { connectionId?: unknown }).connectionId : undefined;
    if (typeof connectionId !== 'string' || typeof message.dst !== 'string') return;
    const src = client.getId();
    const now = Date.now();
    const mutable = message as { src: string; dst: string };
    const reply = this.backward.get(`${src}\n${connectionId}`);
    if (reply && reply.caller === message.dst) {
      reply.used = now;
      mutable.src = reply.plain;
      return;
    }
    const plain = message.dst;
    if (plain.includes(' ')) return;
    const known = this.forward.get(`${src}\n${connectionId}`);
    const peers = this.peersOf(plain);
    if (known && peers?.has(known.device)) {
      known.used = now;
      mutable.dst = known.device;
      return;
    }
    if (!peers || peers.has(plain) || peers.size === 0) return;
    const stuck = this.sticky.get(`${src}\n${plain}`);
    const device = stuck && peers.has(stuck.device) ? stuck.device : [...peers.keys()].at(-1);
    if (!device) return;
    this.sticky.set(`${src}\n${plain}`, { device, used: now });
    this.forward.set(`${src}\n${connectionId}`, { device, caller: src, used: now });
    this.backward.set(`${device}\n${connectionId}`, { plain, caller: src, used: now });
    mutable.dst = device;
  }

  private addDevice(id: string): boolean {
    const user = userOfPeer(id);
    let peers = this.devices.get(user);
    if (!peers) this.devices.set(user, (peers = new Map()));
    // Several nodes: the user's devices on the others count too.
    const online = new Set([...peers.keys(), ...(this.options.cluster?.remoteDevicesOf(user) ?? [])]);
    if (!online.has(id) && online.size >= MAX_DEVICES_PER_USER) return false;
    peers.set(id, (peers.get(id) ?? 0) + 1);
    return true;
  }

  private removeDevice(id: string): void {
    const user = userOfPeer(id);
    const peers = this.devices.get(user);
    const count = peers?.get(id);
    if (!peers || count === undefined) return;
    if (count > 1) peers.set(id, count - 1);
    else peers.delete(id);
    if (peers.size === 0) this.devices.delete(user);
  }

  private async admit(wss: WebSocketServer, req: IncomingMessage, socket: Duplex, head: Buffer, params: URLSearchParams): Promise<void> {
    const id = params.get('id') ?? '';
    let session: Session | undefined;
    let idTaken = false;
    let reason = 'invalid-request';
    let message = 'The connection request is malformed.';
    if (params.get('key') === this.options.key && id && id.length <= 128) {
      try {
        const verified = await verifyToken(this.options.secret, params.get('token'), id);
        if (!(await this.useJti(verified.jti, verified.expiresAt))) {
          throw new TokenError('replayed', 'The token was already used; fetch a fresh token for every connection.');
        }
        if (this.options.cluster && !(await this.options.cluster.claim(id))) idTaken = true;
        // Services (gateway, conference) hold calls for others: their sessions are not cut at token expiry.
        session = { id, expiresAt: verified.service ? Number.POSITIVE_INFINITY : verified.expiresAt, service: verified.service };
      } catch (err) {
        reason = err instanceof TokenError ? err.reason : 'invalid';
        message = err instanceof TokenError ? err.message : 'The token could not be verified.';
      }
    }
    if (socket.destroyed) return;
    wss.handleUpgrade(req, socket, head, (ws) => {
      if (!session) {
        this.count(reason);
        refuse(ws, message);
        return;
      }
      if (idTaken) {
        // Online on another node: the answer PeerServer gives for an id taken on this one.
        this.count('id-taken');
        ws.send(JSON.stringify({ type: 'ID-TAKEN', payload: { msg: 'ID is taken' } }));
        ws.close();
        return;
      }
      if (!session.service && !this.addDevice(session.id)) {
        this.count('too-many-devices');
        refuse(ws, `A user may have at most ${MAX_DEVICES_PER_USER} devices online.`);
        return;
      }
      this.sessions.set(ws, session);
      ws.once('close', () => {
        this.sessions.delete(ws);
        if (!session.service) this.removeDevice(session.id);
      });
      dropMalformedFrames(ws);
      wss.emit('connection', ws, req);
    });
  }

  private count(reason: string): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  private sweep(): void {
    const now = Date.now();
    for (const routes of [this.forward, this.backward, this.sticky] as Array<Map<string, { used: number }>>) {
      for (const [key, route] of routes) if (now - route.used > ROUTE_IDLE_MS) routes.delete(key);
    }
    for (const [ws, session] of this.sessions) {
      if (session.expiresAt > now) continue;
      this.sessions.delete(ws);
      refuse(ws, 'The token has expired; reconnect with a fresh token.');
    }
  }
}

/** How long a plain-id route (see `SignallingAuth.route`) is kept without traffic. */
const ROUTE_IDLE_MS = 120_000;

/** Message types a client may send; PeerServer relays OFFER/ANSWER/CANDIDATE/LEAVE to `dst` verbatim. */
const CLIENT_TYPES: ReadonlySet<string> = new Set([
  'HEARTBEAT', 'OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', TOKEN_MESSAGE, CALL_END_MESSAGE, DEVICES_MESSAGE, ICE_RESTART_MESSAGE,
  CALL_HISTORY_MESSAGE,
]);
const RELAYED: ReadonlySet<string> = new Set(['OFFER', 'ANSWER', 'CANDIDATE']);

/** Whether a frame is a well-formed client message: a JSON object of a known type, relayed ones with a target and an object payload. */
export function isWellFormedFrame(data: unknown): boolean {
  let message: unknown;
  try {
    message = JSON.parse(String(data));
  } catch {
    return false;
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) return false;
  const { type, dst, payload, src } = message as { type?: unknown; dst?: unknown; payload?: unknown; src?: unknown };
  if (typeof type !== 'string' || !CLIENT_TYPES.has(type)) return false;
  if (dst !== undefined && (typeof dst !== 'string' || dst.length === 0 || dst.length > 128)) return false;
  // An ICE restart names its target and nothing about its sender (the server knows who that is).
  if (type === ICE_RESTART_MESSAGE) return typeof dst === 'string' && src === undefined && parseIceRestart(payload) !== undefined;
  if (!RELAYED.has(type)) return true;
  if (typeof dst !== 'string' || typeof payload !== 'object' || payload === null || Array.isArray(payload)) return false;
  // PeerJS's own payloads: a connection id, and an SDP (offer/answer) or an ICE candidate.
  const p = payload as { type?: unknown; connectionId?: unknown; sdp?: unknown; candidate?: unknown };
  if (p.type !== 'data' && p.type !== 'media') return false;
  if (typeof p.connectionId !== 'string' || p.connectionId.length === 0 || p.connectionId.length > 128) return false;
  const body = type === 'CANDIDATE' ? p.candidate : p.sdp;
  return typeof body === 'object' && body !== null && !Array.isArray(body);
}

/**
 * PeerServer relays what it receives without looking at it; drop malformed frames before its listener sees them, so
 * garbage never reaches another client (nor PeerServer's error path).
 */
function dropMalformedFrames(ws: WebSocket): void {
  const emit = ws.emit.bind(ws);
  ws.emit = ((event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'message' && !isWellFormedFrame(args[0])) return false;
    return emit(event, ...args);
  }) as WebSocket['emit'];
}

function refuse(ws: WebSocket, reason: string): void {
  try {
    ws.send(JSON.stringify({ type: 'ERROR', payload: { msg: `unauthorized: ${reason}` } }));
    ws.close(UNAUTHORIZED_CLOSE_CODE, 'Unauthorized');
  } catch {
    ws.terminate();
  }
}
