/**
 * The conference service: the reserved PeerJS peer `calling-conference` (a `NodePeer`), rooms, participants, limits,
 * and the clock that drives each room's `Mixer` (10 ms ticks, catch-up when the event loop was late).
 *
 * - A browser's `callConference(id)` is an invite with `callType: 'conference'` and `to` = the room id. The room is
 *   created by its first participant; the participant is registered when the connection request arrives (the media
 *   offer may overtake it) and joins the mix once media flows. The last one out leaves an empty room that is removed
 *   after `emptyRoomTimeout`.
 * - Refusals travel as a `hangup` with a typed error: `capability/conference-full`, `capability/too-many-conferences`,
 *   `argument/invalid-conference-id`.
 * - Every change (join, leave, mute, hold, speaking) is sent to everyone in the room as one `participants` message.
 * - A participant who puts the call on hold (`hold` from the browser, or a phone / SIP leg the far end holds) leaves
 *   the mix without leaving the room: not summed, sent nothing, `onHold: true` in the list; resuming puts them back.
 * - The REST API calls users into a room (`addParticipant`), mutes, removes and ends rooms.
 */
import { userOfPeer } from '../../core/devices.js';
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { CONFERENCE_PEER_ID, GATEWAY_PEER_ID, type WireError, type WireParticipant } from '../../core/protocol.js';
import { assertPhoneNumber, assertSipAddress, assertUserId } from '../../core/validation.js';
import { CallingError } from '../../core/errors.js';
import { DeviceFork, NodePeer, type NodePeerOptions, type PeerSession, type SessionEnd, type SessionEvents } from '../node-peer/index.js';
import { MIX_RATE, Mixer, isMixerMode, type MixerOptions } from './mixer.js';
import { HelperThreadBatcher } from '../node-peer/threads.js';
import {
  ConferenceError, DEFAULT_CODEC, DEFAULT_LIMITS, assertRoomId, audioCodecsFor, type CalloutTarget, type ConferenceBackend,
  type ConferenceCodec, type ConferenceLimits, type ParticipantKind, type ParticipantView, type RoomEvent, type RoomView,
} from './types.js';

export interface ConferenceServiceOptions {
  /** The calling server's base URL. */
  server: string;
  /** Signalling token for the reserved id (a service token), or a function minting one per connection. */
  token?: NodePeerOptions['token'];
  limits?: Partial<ConferenceLimits>;
  /** How long a REST callout rings before it is given up (ms). Default 45 000. */
  ringTimeout?: number;
  /**
   * Mixer settings. `mode` (`CONFERENCE_MIXER` under `npm start`): `shared` (default) mixes at the legs' own rate
   * (16 kHz when every leg is G.722 / G.711) and sends one mix to everyone who is not talking; `per-leg` is the
   * previous mixer (48 kHz, a mix-minus for everyone), kept for A/B figures.
   */
  mixer?: MixerOptions;
  candidateFilter?: (address: string) => boolean;
  iceServers?: RTCIceServer[];
  /** The peer id to register. Default `calling-conference`. */
  peerId?: string;
  /**
   * Phone / SIP callouts go to the calling gateway (`calling-gateway`) as ordinary phone / SIP calls. Default false:
   * they are refused with `gateway-unavailable`.
   */
  gateway?: boolean;
  /**
   * Moves the process's helper threads (WebRTC's encoder, pacer and network threads, Node's pools) to SCHED_BATCH
   * after joins so that handing frames to WebRTC never preempts the mixing thread (Linux; see `threads.ts`).
   * Default true; `CONFERENCE_HELPER_THREADS=keep` turns it off.
   */
  batchHelperThreads?: boolean;
  /**
   * The participants' audio codec (`CONFERENCE_CODEC` under `npm start`): the service answers a participant's offer
   * with it (and offers it on callouts) when the participant has it. Default `DEFAULT_CODEC`.
   */
  codec?: ConferenceCodec;
  log?: (message: string) => void;
}

export interface ConferenceServiceEvents {
  /** Room events for the call records. */
  record: [RoomEvent];
  /** Signalling was lost for good (see `NodePeer`'s `lost`): the process should exit so its supervisor restarts it. */
  lost: [Error];
}

interface Participant {
  id: string;
  kind: ParticipantKind;
  displayName?: string;
  /** The participant's call: a browser's invite, a REST callout to a user (every device rung), or a gateway leg. */
  session: PeerSession | DeviceFork;
  direction: 'incoming' | 'outgoing';
  state: 'ringing' | 'connecting' | 'joined';
  selfMuted: boolean;
  serverMuted: boolean;
  /** The participant put the call on hold: out of the mix (not heard, hears nothing), still in the room. */
  onHold: boolean;
  speaking: boolean;
  joinedAt: number | null;
  ringTimer?: ReturnType<typeof setTimeout>;
}

interface Room {
  id: string;
  createdAt: number;
  participants: Map<string, Participant>;
  mixer: Mixer;
  emptyTimer?: ReturnType<typeof setTimeout>;
  broadcastTimer?: ReturnType<typeof setTimeout>;
  lastBroadcast: number;
  /** A silent frame at the mix rate: what participants on hold get. */
  silence?: Int16Array;
}

/** Clock and mixing figures, for the benchmark. */
export interface ClockStats {
  ticks: number;
  /** Total time spent mixing and handing frames to WebRTC (ms). */
  busyMs: number;
  /** Of which mixing alone (ms). */
  mixMs: number;
  /** Timer callbacks that had to run more than one tick to catch up. */
  catchUps: number;
  /** Times the clock was so late it skipped ahead instead. */
  resets: number;
  /** Helper threads moved to SCHED_BATCH so far. */
  batchedThreads?: number;
  /** Input underruns (a participant's audio arrived too late: a gap) and input frames dropped (too early), summed
   * over the participants in rooms now. */
  inputUnderruns?: number;
  inputDropped?: number;
}

const TICK_MS = 10;
/** Legs whose codec runs at 16 kHz or below: a room of only these mixes at 16 kHz. */
const NARROW_CODECS = new Set(['g722', 'pcmu', 'pcma']);
const NARROW_RATE = 16_000;

/** Ticks a late clock runs back to back (250 ms; the mixer holds as many input frames) before it skips ahead. */
const MAX_CATCH_UP = 25;
const THREAD_SWEEP_INTERVAL = 10_000;
const BROADCAST_MIN_INTERVAL = 100;

/** Out of the sum: muted (by themselves or the REST API) or on hold. */
function silenced(p: Participant): boolean {
  return p.selfMuted || p.serverMuted || p.onHold;
}

function wire(e: CallingError): WireError {
  return { domain: e.domain, code: e.code, message: e.message };
}

export class ConferenceService extends EventEmitter<ConferenceServiceEvents> implements ConferenceBackend {
  readonly limits: ConferenceLimits;
  private readonly rooms = new Map<string, Room>();
  private clock: ReturnType<typeof setInterval> | undefined;
  private clockStart = 0;
  private ticksDone = 0;
  private readonly clockStats: ClockStats = { ticks: 0, busyMs: 0, mixMs: 0, catchUps: 0, resets: 0 };
  private ticksPending = false;
  /** Moves helper threads to SCHED_BATCH after joins; undefined when turned off (see `batchHelperThreads`). */
  private readonly threads: HelperThreadBatcher | undefined;
  private threadSweep: ReturnType<typeof setInterval> | undefined;
  private stopped = false;

  private constructor(private readonly peer: NodePeer, private readonly options: ConferenceServiceOptions) {
    super();
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    if (options.batchHelperThreads ?? process.env.CONFERENCE_HELPER_THREADS !== 'keep') this.threads = new HelperThreadBatcher((m) => this.log(m));
    peer.on('invite', (session) => this.onInvite(session));
    peer.on('error', (err) => this.log(`signalling: ${err.message}`));
    peer.on('lost', (err) => this.emit('lost', err));
  }

  /** Registers the conference peer on the calling server; resolves once it is online. */
  static async start(options: ConferenceServiceOptions): Promise<ConferenceService> {
    const peer = await NodePeer.start({
      id: options.peerId ?? CONFERENCE_PEER_ID,
      server: options.server,
      ...(options.token ? { token: options.token } : {}),
      ...(options.candidateFilter ? { candidateFilter: options.candidateFilter } : {}),
      ...(options.iceServers ? { iceServers: options.iceServers } : {}),
      ...(options.log ? { log: options.log } : {}),
      audioCodecs: audioCodecsFor(options.codec ?? DEFAULT_CODEC),
    });
    return new ConferenceService(peer, options);
  }

  get roomCount(): number { return this.rooms.size; }
  get stats(): Readonly<ClockStats> {
    let inputUnderruns = 0, inputDropped = 0;
    for (const room of this.rooms.values()) {
      const t = room.mixer.totals();
      inputUnderruns += t.underruns;
      inputDropped += t.dropped;
    }
    return { ...this.clockStats, batchedThreads: this.threads?.changed ?? 0, inputUnderruns, inputDropped };
  }

  // ---- ConferenceBackend -----------------------------------------------------------------------------------------

  async getRoom(conferenceId: string): Promise<RoomView> {
    return this.view(this.room(conferenceId));
  }

  async listRooms(): Promise<RoomView[]> {
    return [...this.rooms.values()].map((r) => this.view(r));
  }

  /**
   * Calls someone into the room. A user gets an incoming call with `callType: 'conference'` (from = the room id) and
   * joins by answering. A phone number or SIP address is called through the gateway, as a phone / SIP call placed by
   * `options.chargeTo` (the user whose credit pays a phone leg; default the `calling-conference` account); the leg
   * joins the mix once it is answered (no ringback in the room).
   */
  async addParticipant(conferenceId: string, target: CalloutTarget, options: { displayName?: string; chargeTo?: string } = {}): Promise<ParticipantView> {
    assertRoomId(conferenceId);
    let kind: ParticipantKind;
    let id: string;
    try {
      if ('userId' in target) {
        kind = 'user';
        id = target.userId;
        assertUserId(id);
      } else {
        kind = 'phoneNumber' in target ? 'phone' : 'sip';
        id = 'phoneNumber' in target ? target.phoneNumber : target.sipAddress;
        if (kind === 'phone') assertPhoneNumber(id);
        else assertSipAddress(id);
        if (options.chargeTo !== undefined) assertUserId(options.chargeTo, 'chargeTo user id');
      }
    } catch (err) {
      throw new ConferenceError('invalid-participant', err instanceof Error ? err.message : 'Invalid participant.');
    }
    if (kind !== 'user' && !this.options.gateway) {
      throw new ConferenceError('gateway-unavailable', 'Phone and SIP participants need the calling gateway, which this server does not run.');
    }
    let room = this.admit(conferenceId, id);
    if (room.participants.has(id)) throw new ConferenceError('already-in-room', `${id} is already in conference ${conferenceId}.`);
    let session: PeerSession | DeviceFork;
    if (kind === 'user') {
      // Every device of the user that is online rings (as app-to-app calls do): the first to answer joins, the
      // others end with `otherDeviceAnswered`.
      const devices = await this.peer.devicesOf(id);
      // The room may have changed during the lookup (filled up, the user joined by themselves, a second callout).
      room = this.admit(conferenceId, id);
      if (room.participants.has(id)) throw new ConferenceError('already-in-room', `${id} is already in conference ${conferenceId}.`);
      session = new DeviceFork(this.peer, id, devices, {
        callId: randomUUID(), from: conferenceId, to: id, callType: 'conference', video: false,
        headers: { 'x-conference-id': conferenceId }, displayName: options.displayName ?? `Conference ${conferenceId}`,
      });
    } else {
      // The gateway bridges to 8 kHz G.711: offer it PCMU (the gateway's own choice on browser legs).
      session = this.peer.call(GATEWAY_PEER_ID, {
        callId: randomUUID(), from: options.chargeTo ?? CONFERENCE_PEER_ID, to: id, callType: kind, video: false,
        headers: { 'x-conference-id': conferenceId }, displayName: options.displayName ?? `Conference ${conferenceId}`,
      }, { audioCodecs: ['PCMU'] });
    }
    const p = this.register(room, id, session, 'outgoing', kind === 'user' ? undefined : options.displayName);
    p.kind = kind;
    p.state = 'ringing';
    p.ringTimer = setTimeout(() => {
      if (p.state === 'ringing') session.hangup('noAnswer');
    }, this.options.ringTimeout ?? 45_000);
    return this.participantView(p);
  }

  async setMuted(conferenceId: string, participantId: string, muted: boolean): Promise<ParticipantView> {
    const room = this.room(conferenceId);
    const p = this.participant(room, participantId);
    p.serverMuted = muted;
    this.applyMix(room, p);
    return this.participantView(p);
  }

  async removeParticipant(conferenceId: string, participantId: string): Promise<void> {
    const room = this.room(conferenceId);
    const p = this.participant(room, participantId);
    this.kick(p, 'You were removed from the conference.');
  }

  async endRoom(conferenceId: string): Promise<void> {
    const room = this.room(conferenceId);
    for (const p of [...room.participants.values()]) this.kick(p, 'The conference was ended.');
    this.removeRoom(room);
  }

  /** Ends every room and leaves signalling. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const room of [...this.rooms.values()]) {
      for (const p of [...room.participants.values()]) this.kick(p, 'The conference service is shutting down.');
      this.removeRoom(room);
    }
    this.stopClock();
    this.threads?.stop();
    // Let the hang-up messages leave before the connections close.
    await new Promise((r) => setTimeout(r, 400));
    await this.peer.stop();
  }

  // ---- joining -----------------------------------------------------------------------------------------------------

  private onInvite(session: PeerSession): void {
    const invite = session.invite;
    try {
      if (invite.callType !== 'conference') throw new ConferenceError('not-a-conference', 'This peer only hosts conference calls.');
      // The signalling server authenticated the sender's peer id; `from` is only what the sender claims.
      // A user's second device signs in as '<userId> <tag>': the caller is the user part of the sender's peer id.
      if (invite.from !== userOfPeer(session.remotePeerId)) throw new ConferenceError('invalid-participant', 'The invite\'s caller is not the sender.');
      assertRoomId(invite.to);
      const room = this.admit(invite.to, invite.from);
      const existing = room.participants.get(invite.from);
      // The same user joining again (a reload, another device) replaces the old leg.
      if (existing) this.kick(existing, 'You joined this conference from another device.', 'otherDeviceAnswered');
      this.register(room, invite.from, session, 'incoming', invite.displayName);
      session.answer();
    } catch (err) {
      const e = err instanceof CallingError ? err : new ConferenceError('service-unavailable', 'The conference could not be joined.');
      this.log(`refused ${invite.from} → ${invite.to}: ${e.code}`);
      session.hangup(e.domain === 'argument' ? 'failure' : 'denied', wire(e));
    }
  }

  /** The room to add `who` to (created if needed), or a typed error when a limit is reached. */
  private admit(conferenceId: string, who: string): Room {
    if (this.stopped) throw new ConferenceError('service-unavailable', 'The conference service is shutting down.');
    let room = this.rooms.get(conferenceId);
    if (!room) {
      if (this.rooms.size >= this.limits.maxRooms) {
        throw new ConferenceError('too-many-conferences', `This server hosts at most ${this.limits.maxRooms} conferences at a time.`);
      }
      room = { id: conferenceId, createdAt: Date.now(), participants: new Map(), mixer: this.newMixer(conferenceId), lastBroadcast: 0 };
      this.rooms.set(conferenceId, room);
      this.record({ type: 'room-created', conferenceId });
      this.scheduleEmpty(room);
    }
    const others = [...room.participants.keys()].filter((id) => id !== who).length;
    if (others >= this.limits.maxParticipants) {
      throw new ConferenceError('conference-full', `Conference ${conferenceId} is full (${this.limits.maxParticipants} participants).`);
    }
    return room;
  }

  private newMixer(conferenceId: string): Mixer {
    // CONFERENCE_MIXER (validated at startup by the child process) unless the options say.
    const env = process.env.CONFERENCE_MIXER?.trim().toLowerCase();
    const mixer = new Mixer({ ...(isMixerMode(env) ? { mode: env } : {}), ...this.options.mixer });
    mixer.onSpeaking = (id, speaking) => {
      const room = this.rooms.get(conferenceId);
      const p = room?.participants.get(id);
      if (!room || !p) return;
      p.speaking = speaking;
      this.broadcast(room);
    };
    return mixer;
  }

  private register(room: Room, id: string, session: PeerSession | DeviceFork, direction: 'incoming' | 'outgoing', displayName?: string): Participant {
    if (room.emptyTimer) {
      clearTimeout(room.emptyTimer);
      room.emptyTimer = undefined;
    }
    const p: Participant = {
      id, kind: 'user', session, direction, state: 'connecting', selfMuted: false, serverMuted: false, onHold: false, speaking: false, joinedAt: null,
      ...(displayName ? { displayName } : {}),
    };
    room.participants.set(id, p);
    // Incoming legs join once media flows; outgoing ones (callouts) once answered too, so early media (a phone
    // network's ringback) never reaches the room.
    let mediaUp = false;
    let answered = direction === 'incoming';
    // A PeerSession or a DeviceFork: the same events.
    const events: EventEmitter<SessionEvents> = session;
    events.once('answer', () => {
      answered = true;
      clearTimeout(p.ringTimer);
      if (p.state === 'ringing') p.state = 'connecting';
      join();
    });
    events.on('media', () => {
      mediaUp = true;
      join();
    });
    const join = () => {
      if (!mediaUp || !answered || p.state === 'joined' || room.participants.get(id) !== p) return;
      p.state = 'joined';
      p.joinedAt = Date.now();
      clearTimeout(p.ringTimer);
      room.mixer.add(id);
      room.mixer.setMuted(id, silenced(p));
      this.chooseRate(room);
      this.record({ type: 'participant-joined', conferenceId: room.id, participantId: id, callId: session.callId, peerId: session.remotePeerId, direction });
      this.broadcast(room, true);
      this.startClock();
      this.threads?.request();
    };
    session.onAudio((frame) => room.mixer.push(id, frame.samples, frame.sampleRate));
    events.on('mute', (muted) => {
      p.selfMuted = muted;
      this.applyMix(room, p);
    });
    events.on('hold', (onHold) => {
      if (p.onHold === onHold) return;
      p.onHold = onHold;
      this.log(`${id} in ${room.id}: ${onHold ? 'on hold, out of the mix' : 'resumed, back in the mix'}`);
      this.applyMix(room, p);
    });
    events.on('end', (end) => this.onLeave(room, p, end));
    return p;
  }

  private onLeave(room: Room, p: Participant, end: SessionEnd): void {
    clearTimeout(p.ringTimer);
    if (room.participants.get(p.id) !== p) return;
    room.participants.delete(p.id);
    room.mixer.remove(p.id);
    this.chooseRate(room);
    this.record({
      type: 'participant-left', conferenceId: room.id, participantId: p.id, callId: p.session.callId, direction: p.direction,
      durationSeconds: p.joinedAt === null ? 0 : Math.round((Date.now() - p.joinedAt) / 1000), cause: end.cause,
    });
    if (this.rooms.get(room.id) !== room) return;
    this.broadcast(room, true);
    if (room.participants.size === 0) this.scheduleEmpty(room);
  }

  /**
   * `shared` mode mixes at 16 kHz while every joined leg is G.722 or G.711 (what their sinks deliver and their
   * encoders take: nothing is resampled), at 48 kHz once any other leg (Opus) is in the room. `per-leg` stays at 48 kHz.
   */
  private chooseRate(room: Room): void {
    if (room.mixer.mode !== 'shared') return;
    let narrow = true;
    for (const p of room.participants.values()) {
      if (p.state !== 'joined') continue;
      const s = p.session;
      const codec = (s instanceof DeviceFork ? s.winner?.audioCodec : s.audioCodec)?.toLowerCase();
      if (!codec || !NARROW_CODECS.has(codec)) narrow = false;
    }
    room.mixer.setRate(narrow ? NARROW_RATE : MIX_RATE);
  }

  private scheduleEmpty(room: Room): void {
    if (room.emptyTimer) clearTimeout(room.emptyTimer);
    room.emptyTimer = setTimeout(() => {
      if (room.participants.size === 0) this.removeRoom(room);
    }, this.limits.emptyRoomTimeout);
  }

  private removeRoom(room: Room): void {
    if (this.rooms.get(room.id) !== room) return;
    clearTimeout(room.emptyTimer);
    clearTimeout(room.broadcastTimer);
    this.rooms.delete(room.id);
    this.record({ type: 'room-removed', conferenceId: room.id });
    if (this.rooms.size === 0) this.stopClock();
  }

  private kick(p: Participant, message: string, cause: 'hungUp' | 'otherDeviceAnswered' = 'hungUp'): void {
    if (p.state === 'ringing') p.session.hangup();
    else p.session.hangup(cause, { domain: 'api', code: cause === 'hungUp' ? 'removed' : 'replaced', message });
  }

  /** A participant's mute or hold changed: in the sum or not, and everyone is told. */
  private applyMix(room: Room, p: Participant): void {
    room.mixer.setMuted(p.id, silenced(p));
    if (silenced(p)) p.speaking = false;
    this.broadcast(room, true);
  }

  // ---- participants messages ---------------------------------------------------------------------------------------

  /** Sends the participant list to everyone in the room, coalescing bursts (speaking flips) to one per 100 ms. */
  private broadcast(room: Room, now = false): void {
    if (room.broadcastTimer) {
      if (!now) return;
      clearTimeout(room.broadcastTimer);
      room.broadcastTimer = undefined;
    }
    const wait = now ? 0 : Math.max(0, room.lastBroadcast + BROADCAST_MIN_INTERVAL - Date.now());
    room.broadcastTimer = setTimeout(() => {
      room.broadcastTimer = undefined;
      room.lastBroadcast = Date.now();
      const list = this.wireList(room);
      for (const p of room.participants.values()) {
        if (p.state === 'joined') p.session.send({ type: 'participants', participants: list });
      }
    }, wait);
  }

  private wireList(room: Room): WireParticipant[] {
    const out: WireParticipant[] = [];
    for (const p of room.participants.values()) {
      if (p.state !== 'joined') continue;
      out.push({ id: p.id, muted: p.selfMuted || p.serverMuted, speaking: p.speaking, onHold: p.onHold, ...(p.displayName ? { displayName: p.displayName } : {}) });
    }
    return out;
  }

  // ---- clock -------------------------------------------------------------------------------------------------------

  private startClock(): void {
    if (this.clock) return;
    this.clockStart = performance.now();
    this.ticksDone = 0;
    this.clock = setInterval(() => this.onClock(), TICK_MS);
    // Threads a leg starts later (renegotiation) are caught too.
    this.threadSweep = setInterval(() => this.threads?.request(), THREAD_SWEEP_INTERVAL);
    this.threadSweep.unref();
  }

  private stopClock(): void {
    if (this.clock) clearInterval(this.clock);
    if (this.threadSweep) clearInterval(this.threadSweep);
    this.clock = undefined;
    this.threadSweep = undefined;
  }

  /**
   * The interval only schedules the ticks: they run in `setImmediate`, after the event loop's I/O phase, so input
   * frames that arrived while the loop was stalled are queued before the catch-up ticks take them (timers run
   * before I/O in each loop iteration).
   */
  private onClock(): void {
    if (this.ticksPending) return;
    this.ticksPending = true;
    setImmediate(() => {
      this.ticksPending = false;
      if (this.clock) this.runTicks();
    });
  }

  /** Runs every tick that is due by the monotonic clock since the clock started, all rooms per tick. */
  private runTicks(): void {
    const due = Math.floor((performance.now() - this.clockStart) / TICK_MS);
    let n = due - this.ticksDone;
    if (n <= 0) return;
    if (n > MAX_CATCH_UP) {
      // Far behind (a stalled event loop): skip ahead rather than burst seconds of audio.
      this.clockStats.resets++;
      this.ticksDone = due - MAX_CATCH_UP;
      n = MAX_CATCH_UP;
    }
    if (n > 1) this.clockStats.catchUps++;
    const t0 = performance.now();
    for (; n > 0; n--) {
      this.ticksDone++;
      this.clockStats.ticks++;
      // Queues are trimmed to the mixer's normal depth only on the burst's last tick.
      for (const room of this.rooms.values()) this.tickRoom(room, n === 1);
    }
    this.clockStats.busyMs += performance.now() - t0;
  }

  private tickRoom(room: Room, trim: boolean): void {
    if (room.mixer.size === 0) return;
    const t0 = performance.now();
    const mixer = room.mixer;
    const frames = mixer.tick(trim);
    this.clockStats.mixMs += performance.now() - t0;
    const rate = mixer.sampleRate;
    if (room.silence?.length !== mixer.frameSamples) room.silence = new Int16Array(mixer.frameSamples);
    for (const [id, frame] of frames) {
      const p = room.participants.get(id);
      // A participant on hold hears nothing: digital silence, so their decoder does not conceal a gap with noise.
      if (p?.state === 'joined') p.session.sendAudio(p.onHold ? room.silence : frame, rate);
    }
  }

  // ---- helpers -----------------------------------------------------------------------------------------------------

  private room(conferenceId: string): Room {
    assertRoomId(conferenceId);
    const room = this.rooms.get(conferenceId);
    if (!room) throw new ConferenceError('not-found', `No conference ${conferenceId}.`);
    return room;
  }

  private participant(room: Room, participantId: string): Participant {
    const p = typeof participantId === 'string' ? room.participants.get(participantId) : undefined;
    if (!p) throw new ConferenceError('participant-not-found', `No participant ${String(participantId)} in conference ${room.id}.`);
    return p;
  }

  private view(room: Room): RoomView {
    return { id: room.id, createdAt: new Date(room.createdAt).toISOString(), participants: [...room.participants.values()].map((p) => this.participantView(p)) };
  }

  private participantView(p: Participant): ParticipantView {
    return {
      id: p.id, kind: p.kind, state: p.state, muted: p.selfMuted || p.serverMuted, mutedByServer: p.serverMuted, onHold: p.onHold, speaking: p.speaking,
      direction: p.direction, callId: p.session.callId, joinedAt: p.joinedAt === null ? null : new Date(p.joinedAt).toISOString(),
      ...(p.displayName ? { displayName: p.displayName } : {}),
    };
  }

  private record(e: Omit<RoomEvent, 'at'>): void {
    this.emit('record', { ...e, at: new Date().toISOString() });
  }

  private log(m: string): void { this.options.log?.(m); }
}
