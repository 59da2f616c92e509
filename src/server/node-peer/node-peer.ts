/**
 * NodePeer — a PeerJS peer in Node (on `@roamhq/wrtc`) that speaks the calling-elements call-control protocol
 * (`src/core/protocol.ts`) and gives services PCM audio in and out. The gateway and the conference service use it.
 *
 * ```ts
 * const peer = await NodePeer.start({ id: 'calling-gateway', server: 'http://127.0.0.1:9000' });
 * peer.on('invite', (session) => {            // a browser called us: session.invite is the InviteMessage
 *   session.ringing();                        // → browser `ringing`
 *   session.onAudio((frame) => { ... });      // 10 ms PCM frames from the browser (rate may change: read it)
 *   session.sendAudio(int16, 8000);           // 10 ms PCM frames to the browser (pace them yourself, 1 per 10 ms)
 *   session.answer();                         // → browser `answered` → `established`
 *   session.on('dtmf', (digits) => ...);
 *   session.on('end', ({ cause, by }) => ...);// 'cancel' / 'hangup' / 'deny' from the browser, or our own end
 *   session.hangup('hungUp');                 // or session.hangup('failure', wireError), session.deny()
 * });
 * const out = peer.call('alice', { from: 'sip:bob@host', callType: 'sip', ... }); // we call a browser
 * await peer.stop();                          // hangs up every session, then leaves signalling
 * ```
 *
 * The call-control transport (queueing until open, flush-before-close, media offers that overtake their invite,
 * "peer unavailable", device queries, call-end reports) is `src/core/transport/`, shared with the browser SDK; this
 * file adds what is Node's: wrtc audio in and out, sessions as EventEmitters. PeerJS needs the wrtc globals before it
 * is imported; a remote `close` is not reliable, so sessions end on explicit messages, a ring/connect timeout, or ICE
 * failure.
 */
import { EventEmitter } from 'node:events';
import type { DataConnection, MediaConnection, Peer as PeerType, PeerOptions } from 'peerjs';
import { assertNever } from '../../core/assert-never.js';
import {
  controlMessage, type ControlMessage, type ControlPayload, type InviteMessage, type WireError, type WireParticipant,
} from '../../core/protocol.js';
import { closeMedia, connectFailure, ControlChannel, FLUSH_MS, whenPeerConnection } from '../../core/transport/control-channel.js';
import { PeerTransport, peerServerOptions } from '../../core/transport/peer-transport.js';
import type { CallEndCause } from '../../core/types.js';
import { firstAudioCodec, restrictAudioCodecs } from './sdp-codecs.js';
import { installWrtcGlobals, loadWrtc, restrictCodecsFor, setCandidateFilter, type PcmFrame, type WrtcAudioSink, type WrtcAudioSource } from './wrtc.js';

export type { PcmFrame } from './wrtc.js';

export interface NodePeerOptions {
  /** The peer id to register (e.g. `calling-gateway`). */
  id: string;
  /** The calling server's base URL, e.g. `http://127.0.0.1:9000`; signalling is on its `/peerjs` path. */
  server: string;
  /** A token for the signalling server, or a function minting a fresh one per (re)connect. */
  token?: string | (() => string | Promise<string>);
  iceServers?: RTCIceServer[];
  /** Only announce local ICE candidates whose address passes (e.g. `(a) => a === '127.0.0.1'`). */
  candidateFilter?: (address: string) => boolean;
  /** How long a session may wait for its media/control connection (ms). Default 10 000. */
  connectTimeout?: number;
  /** Log function for diagnostics. Default: none. */
  log?: (message: string) => void;
  /**
   * Report every session's end to the server's call records (`CALL-END` on the signalling socket, see
   * `src/server/storage/call-recorder.ts`; services are the ones allowed to end phone/SIP/conference records).
   * Default true.
   */
  reportCallEnds?: boolean;
  /**
   * Audio codecs for the WebRTC leg, by rtpmap name in order of preference (e.g. `['PCMU']`): media answers and
   * offers are reduced to these when the other side has one of them, else left as they are. Default: no
   * restriction (the browser's order, Opus first). The gateway uses `['PCMU']`: its SIP side is 8 kHz G.711.
   */
  audioCodecs?: string[];
  /** How long a lost signalling connection may take to register again before `lost` is emitted (ms). Default 30 000. */
  registerDeadline?: number;
}

/** How a session ended and who ended it. */
export interface SessionEnd {
  cause: CallEndCause;
  /** `remote`: the browser sent cancel/hangup/deny or vanished; `local`: this side ended it. */
  by: 'local' | 'remote';
  error?: WireError;
  /** A remote `deny` that declines on every device of the user (see `DeviceFork`). */
  allDevices?: boolean;
}

/** Per-call options of `NodePeer.call`. */
export interface CallOptions {
  /**
   * Audio codecs to offer on this call, overriding the peer's `audioCodecs` for our offer (e.g. `['PCMU']` towards a
   * peer that bridges to 8 kHz anyway). Empty: no restriction.
   */
  audioCodecs?: string[];
}

export interface SessionEvents {
  /** Outgoing sessions: the browser has shown the call. */
  ringing: [];
  /** Outgoing sessions: the browser answered. */
  answer: [];
  /** Media flows both ways (remote track present and ICE connected). */
  media: [];
  dtmf: [digits: string];
  /** The browser muted / unmuted. */
  mute: [audioMuted: boolean];
  /** The browser put the call on hold / resumed it (or, calling a service: the service's far end did). */
  hold: [onHold: boolean];
  /** Calling the conference service: the room's participant list, whenever it changes. */
  participants: [WireParticipant[]];
  end: [SessionEnd];
}

/** One call between this peer and a browser. */
export class PeerSession extends EventEmitter<SessionEvents> {
  readonly callId: string;
  readonly invite: InviteMessage;
  readonly direction: 'incoming' | 'outgoing';
  /** The browser's peer id. */
  readonly remotePeerId: string;
  private channel: ControlChannel | undefined;
  private mediaConn: MediaConnection | undefined;
  /** Messages sent before the control connection was attached. */
  private outbox: ControlPayload[] = [];
  private source: WrtcAudioSource;
  private track: MediaStreamTrack;
  private stream: MediaStream;
  private sink: WrtcAudioSink | undefined;
  private audioListeners: Array<(frame: PcmFrame) => void> = [];
  private mediaAnswered = false;
  /** `connectMedia()` was asked for before the media offer arrived: answer it when it does. */
  private mediaWanted = false;
  private mediaUp = false;
  private iceUp = false;
  private answered = false;
  private _ended: SessionEnd | undefined;
  private timers = new Set<ReturnType<typeof setTimeout>>();
  private stops: Array<() => void> = [];

  /** @internal created by NodePeer */
  constructor(private readonly owner: NodePeer, invite: InviteMessage, direction: 'incoming' | 'outgoing', remotePeerId: string) {
    super();
    this.callId = invite.callId;
    this.invite = invite;
    this.direction = direction;
    this.remotePeerId = remotePeerId;
    const w = loadWrtc();
    this.source = new w.nonstandard.RTCAudioSource();
    this.track = this.source.createTrack();
    this.stream = new w.MediaStream([this.track]);
  }

  get ended(): SessionEnd | undefined { return this._ended; }
  get isMediaUp(): boolean { return this.mediaUp; }

  /**
   * The audio codec the call negotiated (rtpmap name of the answer's first audio payload type, e.g. `opus`, `G722`,
   * `PCMU`), once the media answer is set; undefined before.
   */
  get audioCodec(): string | undefined {
    const pc = this.mediaConn?.peerConnection as RTCPeerConnection | undefined;
    const local = pc?.localDescription;
    const remote = pc?.remoteDescription;
    const answer = local?.type === 'answer' ? local : remote?.type === 'answer' ? remote : undefined;
    return answer?.sdp ? firstAudioCodec(answer.sdp) : undefined;
  }

  /**
   * Incoming: tell the browser this service is working on the call but has nothing to show yet (e.g. the SIP INVITE
   * left). A service must say something (this, `ringing`, `answer` or an end) within the browser's `connectTimeout`
   * (default 5 s), else the browser ends the call with `failure` (`service-no-response`).
   */
  progress(): void { this.send({ type: 'progress' }); }

  /** Incoming: tell the browser its call is ringing. */
  ringing(): void { this.send({ type: 'ringing' }); }

  /**
   * Incoming: connect media without answering (early media): the browser hears `sendAudio` while still ringing.
   * `answer()` does this too.
   */
  connectMedia(): void {
    if (this.mediaAnswered || this._ended || this.direction !== 'incoming') return;
    if (!this.mediaConn) {
      this.mediaWanted = true;
      return;
    }
    this.mediaAnswered = true;
    this.mediaConn.answer(this.stream, this.owner.sdpTransform ? { sdpTransform: this.owner.sdpTransform } : undefined);
    this.watchPc();
  }

  /** Incoming: answer the call (the browser goes `answered`, then `established` once media flows). */
  answer(): void {
    if (this._ended) return;
    this.connectMedia();
    this.send({ type: 'answer', video: false });
  }

  /** Incoming, before answering: decline (the browser ends with `denied`). */
  deny(): void { this.finish({ cause: 'denied', by: 'local' }, { type: 'deny' }); }

  /**
   * Ends the call. With `reason` and an optional wire error the browser ends with that cause and
   * `details.error` (e.g. `hangup('denied', { domain: 'sip', code: 'busy', sipStatus: 486, ... })`).
   * An outgoing session not yet answered is canceled instead: `hungUp` → the browser sees `canceled`;
   * `otherDeviceAnswered`, and `denied` without an error (declined on another device), are sent as the cancel's
   * reason (see `DeviceFork`).
   */
  hangup(reason: CallEndCause = 'hungUp', error?: WireError): void {
    if (this.direction === 'outgoing' && !this.answered && (reason === 'hungUp' || reason === 'otherDeviceAnswered' || (reason === 'denied' && !error))) {
      // Not answered yet: a cancel (another device of the user answered: `otherDeviceAnswered`, or the user declined
      // on another device: `denied`; no error there).
      const cancel = reason === 'hungUp' ? 'canceled' : reason;
      this.finish({ cause: cancel, by: 'local' }, { type: 'cancel', reason: cancel });
      return;
    }
    this.finish({ cause: reason, by: 'local', ...(error ? { error } : {}) }, { type: 'hangup', reason, ...(error ? { error } : {}) });
  }

  /** Receives the browser's audio: 10 ms frames of 16-bit PCM; the rate can change (16 kHz at first, then 48 kHz). */
  onAudio(listener: (frame: PcmFrame) => void): () => void {
    this.audioListeners.push(listener);
    return () => { this.audioListeners = this.audioListeners.filter((l) => l !== listener); };
  }

  /** Sends one 10 ms frame of mono 16-bit PCM to the browser (`samples.length === sampleRate / 100`). */
  sendAudio(samples: Int16Array, sampleRate: number): void {
    if (this._ended) return;
    this.source.onData({ samples, sampleRate, bitsPerSample: 16, channelCount: 1, numberOfFrames: samples.length });
  }

  // ---- internal ----

  /** @internal The outgoing stream (our audio source's track). */
  get _stream(): MediaStream { return this.stream; }

  /** @internal */
  _attachData(data: DataConnection): void {
    const channel = new ControlChannel(data, this.callId, {
      message: (msg) => this.onMessage(msg),
      // A vanished browser: give an explaining message a moment, then end.
      close: () => this.timer(1000, () => this.finish({ cause: 'failure', by: 'remote', error: { domain: 'network', code: 'connection-lost', message: 'The control connection closed.' } })),
      error: () => this.finish({ cause: 'failure', by: 'remote' }),
    });
    this.channel = channel;
    for (const payload of this.outbox.splice(0)) channel.send(payload);
    this.timer(this.owner.connectTimeout, () => {
      if (!channel.isOpen) this.finish({ ...connectFailure(this.remotePeerId, [channel.data, this.mediaConn]), by: 'remote' });
    });
  }

  /** @internal */
  _attachMedia(media: MediaConnection): void {
    if (this.mediaConn || this._ended) {
      media.close();
      return;
    }
    this.mediaConn = media;
    media.on('stream', (stream: MediaStream) => {
      if (this.sink) return;
      const track = stream.getAudioTracks()[0];
      if (!track) return;
      const sink = new (loadWrtc().nonstandard.RTCAudioSink)(track);
      this.sink = sink;
      sink.ondata = (frame) => {
        for (const l of this.audioListeners) l(frame);
      };
      this.checkMedia();
    });
    if (this.direction === 'outgoing') this.watchPc();
    else if (this.mediaWanted) this.connectMedia();
  }

  private watchPc(): void {
    if (!this.mediaConn) return;
    const stop = whenPeerConnection(this.mediaConn, (pc) => {
      const onIce = () => {
        const s = pc.iceConnectionState;
        if (s === 'connected' || s === 'completed') {
          this.iceUp = true;
          this.checkMedia();
        } else if (s === 'failed') {
          this.finish({ cause: 'failure', by: 'remote', error: { domain: 'network', code: 'ice-failed', message: 'The media connection failed.' } }, { type: 'hangup', reason: 'failure' });
        }
      };
      pc.addEventListener('iceconnectionstatechange', onIce);
      onIce();
    });
    this.stops.push(stop);
  }

  private checkMedia(): void {
    if (!this.mediaUp && this.iceUp && this.sink) {
      this.mediaUp = true;
      this.emit('media');
    }
  }

  private onMessage(msg: ControlMessage): void {
    if (this._ended) return;
    switch (msg.type) {
      case 'ringing':
        if (this.direction === 'outgoing') this.emit('ringing');
        break;
      case 'answer':
        if (this.direction === 'outgoing' && !this.answered) {
          this.answered = true;
          this.emit('answer');
        }
        break;
      case 'deny':
        this.finish({ cause: 'denied', by: 'remote', ...(msg.allDevices ? { allDevices: true } : {}) });
        break;
      case 'cancel':
        this.finish({ cause: msg.reason === 'canceled' ? 'canceled' : msg.reason, by: 'remote' });
        break;
      case 'hangup':
        this.finish({ cause: msg.reason, by: 'remote', ...(msg.error ? { error: msg.error } : {}) });
        break;
      case 'dtmf':
        this.emit('dtmf', msg.digits);
        break;
      case 'media':
        this.emit('mute', msg.audioMuted);
        break;
      case 'hold':
        this.emit('hold', msg.onHold);
        break;
      case 'participants':
        this.emit('participants', msg.participants);
        break;
      case 'invite':
      case 'progress':
      case 'screenshare':
        break;
      default:
        assertNever(msg);
    }
  }

  /** @internal Sends a control message now or once the connection opens. */
  send(payload: ControlPayload): void {
    if (this._ended) return;
    if (this.channel) this.channel.send(payload);
    else this.outbox.push(payload);
  }

  /** @internal Ends the session once: notifies the browser (when `notify`), releases media, emits `end`. */
  finish(end: SessionEnd, notify?: ControlPayload): void {
    if (this._ended) return;
    if (notify && !this.channel) this.outbox.push(notify);
    this._ended = end;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const stop of this.stops.splice(0)) stop();
    this.sink?.stop();
    this.audioListeners = [];
    const media = this.mediaConn;
    if (this.channel) {
      this.channel.close(notify, this.owner.connectTimeout, () => {
        media?.close();
        this.track.stop();
      });
    } else {
      closeMedia(media, false);
      this.track.stop();
    }
    this.owner._release(this);
    this.owner._reportEnd(this.callId, end);
    this.emit('end', end);
  }

  private timer(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

export interface NodePeerEvents {
  /** A browser placed a call to this peer. Call `ringing()`, then `answer()`/`deny()`/`hangup()`. */
  invite: [PeerSession];
  /** Signalling errors (the peer keeps trying to reconnect). */
  error: [Error];
  /** Signalling was lost and not regained within `registerDeadline`: the owner should restart (exit). */
  lost: [Error];
}

type PeerCtor = new (id: string, options: PeerOptions) => PeerType;
let PeerClass: PeerCtor | undefined;
async function loadPeerJs(): Promise<PeerCtor> {
  if (PeerClass) return PeerClass;
  installWrtcGlobals();
  const mod = (await import('peerjs')) as unknown as { default?: { Peer: PeerCtor }; Peer?: PeerCtor };
  PeerClass = mod.Peer ?? mod.default?.Peer;
  if (!PeerClass) throw new Error('peerjs did not load');
  return PeerClass;
}

/** A PeerJS peer in Node speaking the call-control protocol. Create with `await NodePeer.start(options)`. */
export class NodePeer extends EventEmitter<NodePeerEvents> {
  readonly id: string;
  readonly connectTimeout: number;
  /** @internal The SDP rewrite for `audioCodecs`, if any. */
  readonly sdpTransform: ((sdp: string) => string) | undefined;
  private readonly sessions = new Map<string, PeerSession>();
  /** The current PeerJS peer and its transport: both replaced when signalling cannot be resumed (see `recover`). */
  private peer!: PeerType;
  private transport!: PeerTransport;
  private readonly peerOptions: PeerOptions;
  private readonly registerDeadline: number;
  private stopped = false;
  private recovering = false;
  private registering = false;
  /** Invites that arrived before anyone listened for `invite` (emitted once someone does). */
  private readonly heldInvites: PeerSession[] = [];

  private constructor(private readonly Peer: PeerCtor, private readonly options: NodePeerOptions) {
    super();
    this.id = options.id;
    this.connectTimeout = options.connectTimeout ?? 10_000;
    this.registerDeadline = options.registerDeadline ?? 30_000;
    const codecs = options.audioCodecs;
    this.sdpTransform = codecs?.length ? (sdp: string) => restrictAudioCodecs(sdp, codecs) : undefined;
    const config: RTCConfiguration = { iceServers: options.iceServers ?? [] };
    if (codecs?.length) restrictCodecsFor(config, codecs);
    this.peerOptions = { ...peerServerOptions(options.server), debug: 0, config };
    (this as EventEmitter).on('newListener', (event: string | symbol) => {
      if (event !== 'invite' || !this.heldInvites.length) return;
      // `newListener` fires before the listener is added.
      queueMicrotask(() => {
        for (const session of this.heldInvites.splice(0)) if (!session.ended) this.emit('invite', session);
      });
    });
  }

  /** Registers `options.id` on the signalling server; resolves once online, rejects on a signalling error. */
  static async start(options: NodePeerOptions): Promise<NodePeer> {
    const Peer = await loadPeerJs();
    if (options.candidateFilter) setCandidateFilter(options.candidateFilter);
    const node = new NodePeer(Peer, options);
    try {
      await node.register();
    } catch (e) {
      node.stopped = true;
      node.transport.close();
      node.peer.destroy();
      throw e;
    }
    return node;
  }

  /**
   * Creates a PeerJS peer with a fresh token and resolves once the server has registered it. Its transport listens
   * before the socket opens: messages the server queued for this id (a browser that called while this service was
   * (re)starting) arrive in the same read as `OPEN` and would otherwise be answered by PeerJS and never seen here.
   */
  private async register(): Promise<void> {
    let token: string | undefined;
    this.registering = true;
    try {
      token = typeof this.options.token === 'function' ? await this.options.token() : this.options.token;
    } finally {
      this.registering = false;
    }
    const peer = new this.Peer(this.id, { ...this.peerOptions, ...(token ? { token } : {}) });
    this.transport?.close();
    this.peer = peer;
    this.transport = new PeerTransport(peer, {
      accepts: (invite) => !this.stopped && !this.sessions.has(invite.callId),
      invite: (data, invite) => this.onInvite(data, invite),
      media: (callId, media) => {
        const session = this.sessions.get(callId);
        session?._attachMedia(media);
        return !!session;
      },
      unavailable: (id) => {
        for (const s of this.sessions.values()) {
          if (s.direction === 'outgoing' && !s.isMediaUp && (id === undefined || s.remotePeerId === id)) {
            s.finish({ cause: 'unavailable', by: 'remote' });
          }
        }
      },
    }, this.connectTimeout);
    this.listen(peer);
    await new Promise<void>((resolve, reject) => {
      // Only for this registration: a later error (e.g. `peer-unavailable` for one callee) must not reject or destroy.
      const onOpen = () => {
        peer.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        peer.off('open', onOpen);
        reject(e);
      };
      peer.once('open', onOpen);
      peer.once('error', onError);
    });
  }

  /** Sessions that have not ended. */
  get activeSessions(): readonly PeerSession[] { return [...this.sessions.values()]; }

  /**
   * Calls a browser user (e.g. an incoming SIP call for `bob`): sends `invite` and the media offer. The session
   * emits `ringing`, `answer`, `media`, `end`.
   */
  call(userPeerId: string, invite: Omit<InviteMessage, 'v' | 'type'>, options: CallOptions = {}): PeerSession {
    // PeerJS returns no connection at all while disconnected or destroyed.
    if (!this.peer.open) throw new Error(`${this.id} is not registered with the signalling server`);
    const message = controlMessage(invite.callId, { type: 'invite', ...invite }) as InviteMessage;
    const session = new PeerSession(this, message, 'outgoing', userPeerId);
    this.sessions.set(session.callId, session);
    const codecs = options.audioCodecs;
    const sdpTransform = codecs === undefined ? this.sdpTransform : codecs.length ? (sdp: string) => restrictAudioCodecs(sdp, codecs) : undefined;
    // Outgoing media starts with our (silent until fed) audio track.
    const { data, media } = this.transport.dial(userPeerId, message, session._stream, sdpTransform ? { sdpTransform } : {});
    session._attachData(data);
    session._attachMedia(media);
    return session;
  }

  /**
   * The peer ids a user has online (`"<userId>"` and `"<userId> <tag>"` devices), asked of the signalling server
   * over the socket (`DEVICES`). Resolves `[]` when the user has none, and `undefined` when the server did not
   * answer in time (an older server): then call the plain user id.
   */
  devicesOf(userId: string, timeoutMs = 2000): Promise<string[] | undefined> {
    return this.transport.queryDevices(userId, timeoutMs);
  }

  /** Hangs up every session, then leaves signalling. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    const open = [...this.sessions.values()];
    for (const s of open) s.hangup('hungUp');
    this.transport.close();
    if (open.length) await new Promise((r) => setTimeout(r, FLUSH_MS + 100));
    this.peer.destroy();
  }

  /** @internal */
  _release(session: PeerSession): void {
    this.sessions.delete(session.callId);
  }

  /** @internal Tells the server's call recorder how a call ended (its own clock and checks apply). */
  _reportEnd(callId: string, end: SessionEnd): void {
    if (this.options.reportCallEnds === false) return;
    if (!this.transport.reportCallEnd(callId, end.cause, end.error) && !this.peer.destroyed && !this.peer.disconnected) {
      this.log('call end not reported: the signalling socket refused it');
    }
  }

  private log(m: string): void { this.options.log?.(m); }

  private onInvite(data: DataConnection, invite: InviteMessage): void {
    const session = new PeerSession(this, invite, 'incoming', data.peer);
    this.sessions.set(session.callId, session);
    session._attachData(data);
    const held = this.transport.takeHeldMedia(session.callId);
    if (held) session._attachMedia(held);
    if (this.listenerCount('invite') > 0) this.emit('invite', session);
    else this.heldInvites.push(session);
  }

  private listen(peer: PeerType): void {
    peer.on('error', (err: Error & { type?: string }) => {
      this.log(`signalling error: ${err.type ?? ''} ${err.message}`);
      if (this.listenerCount('error') > 0) this.emit('error', err);
    });
    peer.on('disconnected', () => {
      if (this.stopped || peer !== this.peer) return;
      this.log('signalling lost; reconnecting');
      this.recover();
    });
  }

  /**
   * Gets back on the signalling server from any state: a disconnected peer reconnects with a fresh token, a destroyed
   * one (PeerJS destroys a peer whose first registration failed) is replaced by a new peer. Not registered again
   * within `registerDeadline`: `lost` is emitted (services exit then, and their supervisor starts them afresh).
   */
  private recover(): void {
    if (this.recovering) return;
    this.recovering = true;
    const since = Date.now();
    const attempt = async () => {
      if (this.stopped) return;
      const peer = this.peer;
      if (peer.open) {
        this.recovering = false;
        this.log(`signalling back after ${Date.now() - since} ms`);
        return;
      }
      if (Date.now() - since > this.registerDeadline) {
        this.recovering = false;
        this.log(`not registered again within ${this.registerDeadline} ms; giving up`);
        this.emit('lost', new Error(`${this.id} could not register with the signalling server again within ${this.registerDeadline} ms`));
        return;
      }
      try {
        if (peer.destroyed && !this.registering) {
          this.register().catch((e: unknown) => this.log(`register failed: ${String(e)}`));
        } else if (peer.disconnected) {
          // PeerJS reuses options.token on reconnect; a used JWT must not be replayed.
          if (typeof this.options.token === 'function') this.transport.setReconnectToken(await this.options.token());
          peer.reconnect();
        }
      } catch (e) {
        this.log(`reconnect failed: ${String(e)}`);
      }
      setTimeout(() => void attempt(), 2000).unref();
    };
    setTimeout(() => void attempt(), 500).unref();
  }
}
