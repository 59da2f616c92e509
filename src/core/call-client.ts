import type { DataConnection, Peer, PeerError, PeerOptions } from 'peerjs';
import { loadHistoryChunk, loadPeerChunk } from './chunks.js';
import { CallSession } from './call.js';
import type { CallHost, CallTimings } from './call-host.js';
import { DEVICE_QUERY_TIMEOUT_MS, START_DEADLINE_MS, callTimings, maxCallsOf, type CallClientOptions } from './client-options.js';
import { holdOthers, liveCallCount } from './hold.js';
import { isConnectionError, isTaken, newCallId, signallingError } from './signalling-errors.js';
import { TokenKeeper } from './token-keeper.js';
import { CallingError, errorFromWire } from './errors.js';
import type { CallHistoryEntry, CallHistoryOptions } from './call-history.js';
import { ClientDevices } from './client-devices.js';
import type { DeviceChoice, MediaDeviceLists } from './media-devices.js';
import { CallClientErrorEvent, CallStartedEvent, ConnectionStateChangeEvent, IncomingCallEvent, type Call, type CallClientEventMap } from './events.js';
import { CONFERENCE_PEER_ID, GATEWAY_PEER_ID, type InviteMessage } from './protocol.js';
import { DEVICE_TAG, devicePeerId, newDeviceTag } from './devices.js';
import { PeerTransport, peerServerOptions } from './transport/peer-transport.js';
import type { CallType, ConnectionState } from './types.js';
import { TypedEventTarget } from './typed-event-target.js';
import { AudioController } from './audio/audio-controller.js';
import { TonePolicy } from './audio/tone-policy.js';
import { IncomingCallNotifier, type LocalNotificationFactory, type NotificationEventMap } from './notifications.js';
import { Reconnector } from './reconnect.js';
import {
  assertConferenceId, assertPhoneNumber, assertSipAddress, assertUserId, cleanDisplayName, validateHeaders,
} from './validation.js';

/**
 * The entry point for calling (Sinch's `SINCallClient`). Calling is off by default:
 *
 * ```ts
 * const client = new CallClient({ userId: 'alice', server: 'http://localhost:9000' });
 * client.setSupportCalling(true);
 * await client.start();
 * client.addEventListener('incomingcall', (e) => e.call.answer());
 * const call = client.callUser('bob');
 * ```
 *
 * @fires incomingcall - a call arrived (`event.call`)
 * @fires callstarted - this client placed a call (`event.call`)
 * @fires connectionstatechange - the signalling connection changed state
 * @fires error - a client-level error (e.g. signalling lost)
 * @fires devicechange - the device lists or the chosen devices changed (`event.devices`, `event.fallback`)
 */
export class CallClient extends TypedEventTarget<CallClientEventMap & NotificationEventMap> {
  readonly userId: string;
  readonly displayName: string | undefined;
  /** This client's device tag (see `CallClientOptions.deviceId`); its peer id is `userId` or `<userId> <deviceTag>`. */
  readonly deviceTag: string;
  private readonly options: Readonly<CallClientOptions>;
  private readonly timings: CallTimings;
  /** How many calls this client takes at once (`CallClientOptions.maxCalls`). */
  readonly maxCalls: number;
  private readonly endpoint: Pick<PeerOptions, 'host' | 'port' | 'path' | 'secure' | 'key'>;
  private supportCalling = false;
  private leaving = false;
  private peer: Peer | null = null;
  /** The call-level side of `peer` (see `transport/peer-transport.ts`), once registered. */
  private transport: PeerTransport | null = null;
  private _connectionState: ConnectionState = 'disconnected';
  private readonly calls = new Map<string, CallSession>();
  private readonly tokens: TokenKeeper;
  private readonly reconnector = new Reconnector({
    current: () => this.peer,
    freshToken: async () => {
      const token = await this.tokens.fetch();
      if (token) this.transport?.setReconnectToken(token);
    },
    reconnecting: () => this.setConnectionState('reconnecting'),
  });
  private serverIceServers: readonly RTCIceServer[] = [];
  /** Customises the notification for a call that arrives while the page is hidden (`null`: the defaults). */
  localNotificationForIncomingCall: LocalNotificationFactory | null = null;
  /** A service worker registration: call notifications then get an "Answer" button (see the README). */
  notificationServiceWorker: ServiceWorkerRegistration | null = null;
  private _audioController: AudioController | null = null;
  private readonly tonePolicy: TonePolicy | null;
  private readonly notifier: IncomingCallNotifier;
  private readonly devices = new ClientDevices(this, () => [...this.calls.values()], (constraints) => {
    if (this.options.getUserMedia) return this.options.getUserMedia(constraints);
    if (!navigator.mediaDevices?.getUserMedia) {
      return Promise.reject(Object.assign(new Error('getUserMedia is not available (is the page served over https?)'), { name: 'NotFoundError' }));
    }
    return navigator.mediaDevices.getUserMedia(constraints);
  });

  constructor(options: CallClientOptions) {
    super();
    assertUserId(options?.userId);
    this.endpoint = peerServerOptions(options.server);
    this.userId = options.userId;
    this.displayName = cleanDisplayName(options.displayName);
    if (options.deviceId !== undefined && (typeof options.deviceId !== 'string' || !DEVICE_TAG.test(options.deviceId))) {
      throw new CallingError('argument', 'invalid-device-id', 'The device id must be 1 to 32 letters and digits.');
    }
    this.deviceTag = options.deviceId ?? newDeviceTag();
    this.options = Object.freeze({ ...options });
    this.tokens = new TokenKeeper(options.token);
    this.tonePolicy = options.audio === false ? null : new TonePolicy(this, () => this.audioController);
    this.notifier = new IncomingCallNotifier(this);
    this.timings = callTimings(options);
    this.maxCalls = maxCallsOf(options);
  }

  /** The ICE servers new calls use: the app's `iceServers`, else those the calling server handed this client. */
  get iceServers(): readonly RTCIceServer[] { return this.options.iceServers ?? this.serverIceServers; }

  /** The signalling connection's state. */
  get connectionState(): ConnectionState { return this._connectionState; }
  /** The peer id this client registered (`userId`, or `<userId> <deviceTag>` when another device has the plain id). */
  get peerId(): string | undefined { return this.peer?.id ?? undefined; }
  /** True between a successful `start()` and `stop()`. */
  get isStarted(): boolean { return this._connectionState === 'connected'; }
  /** Whether `setSupportCalling(true)` was called. */
  get isCallingSupported(): boolean { return this.supportCalling; }
  /** Calls that have not ended yet: with call waiting two (see `maxCalls`), at most one of them not on hold. */
  get activeCalls(): readonly Call[] { return [...this.calls.values()]; }
  /** Every sound the SDK plays: ringtone, progress and other call tones, DTMF key tones, the app's sound files. */
  get audioController(): AudioController {
    this._audioController ??= new AudioController(this.options.audio === false ? { autoTones: false } : this.options.audio);
    return this._audioController;
  }

  /**
   * The microphones, cameras and audio outputs the browser lists (labels are empty until the user granted media
   * permission). The `devicechange` event tells when they change.
   */
  getDevices(): Promise<MediaDeviceLists> { return this.devices.list(); }

  /**
   * Chooses the microphone (`deviceId` from `getDevices()`; `''` or `'default'`: the system default) for the calls
   * going on, at once and without renegotiation, and for the next calls. Rejects with an `argument` error
   * (`unknown-media-device`) for a device that is not connected, a `media` error when it cannot be started.
   * When the chosen microphone is unplugged, calls fall back to the default one (`devicechange` with `fallback`).
   */
  setAudioInputDevice(deviceId: string): Promise<void> { return this.devices.select('audioInput', deviceId); }
  /** Chooses the camera, as `setAudioInputDevice()` chooses the microphone. */
  setVideoInputDevice(deviceId: string): Promise<void> { return this.devices.select('videoInput', deviceId); }
  /**
   * Chooses where calls sound (`setSinkId`; `<call-provider>` applies it, apps that play `call.remoteStream`
   * themselves apply `chosenDevices.audioOutput` on `devicechange`). The ringtone's output is the audio controller's
   * `setRingtoneSinkId()`. A `capability` error where the browser cannot choose outputs.
   */
  setAudioOutputDevice(deviceId: string): Promise<void> { return this.devices.select('audioOutput', deviceId); }
  /** The chosen devices' ids (`audioInput`, `videoInput`, `audioOutput`); a kind left out is the system default. */
  get chosenDevices(): Readonly<DeviceChoice> { return { ...this.devices.chosen }; }

  /** Asks for permission to notify about calls arriving in the background (call it from a user gesture). */
  requestNotificationPermission(): Promise<NotificationPermission> {
    return this.notifier.requestPermission();
  }

  /** Enables (or disables) calling. Must be enabled before `start()`, as in Sinch's SDK. */
  setSupportCalling(enabled: boolean): void {
    if (this.peer) {
      throw new CallingError('capability', 'already-started', 'setSupportCalling() must be called before start().');
    }
    this.supportCalling = enabled;
  }

  /** Connects to the signalling server. Resolves once this user is online; rejects with a `signalling` error. */
  async start(): Promise<void> {
    if (this.peer) return;
    this.setConnectionState('connecting');
    // The user's first device online takes the plain user id (services and older callers dial it); when another
    // device has it, this one registers `<userId> <deviceTag>`. A string token opens one connection: no second try.
    const ids = this.options.deviceId !== undefined ? [devicePeerId(this.userId, this.deviceTag)]
      : typeof this.options.token === 'string' ? [this.userId] : [this.userId, devicePeerId(this.userId, this.deviceTag)];
    for (const [i, id] of ids.entries()) {
      const last = i === ids.length - 1;
      try {
        await this.register(id, last);
        return;
      } catch (err) {
        if (last || !isTaken(err)) throw err;
      }
    }
  }

  /** Registers peer id `id`; when it is taken and `last` is false, the state stays `connecting` for the next try. */
  private async register(id: string, last: boolean): Promise<void> {
    let token: string | undefined;
    let Peer: Awaited<ReturnType<typeof loadPeerChunk>>['Peer'];
    try {
      [token, { Peer }] = await Promise.all([this.tokens.fetch(), loadPeerChunk()]);
    } catch (err) {
      this.setConnectionState('disconnected');
      throw err;
    }
    const peer = new Peer(id, {
      ...this.endpoint,
      debug: 0,
      config: { iceServers: [...this.iceServers], iceTransportPolicy: this.options.iceTransportPolicy ?? 'all' },
      ...(token ? { token } : {}),
    });
    this.peer = peer;
    const transport = this.transportFor(peer);
    this.transport = transport;
    try {
      await new Promise<void>((resolve, reject) => {
        const late = setTimeout(() => reject(new CallingError('network', 'signalling-timeout', 'The calling server did not answer in time.')), START_DEADLINE_MS);
        peer.once('open', () => { clearTimeout(late); resolve(); });
        peer.once('error', (err) => { clearTimeout(late); reject(signallingError(err)); });
      });
    } catch (err) {
      this.peer = null;
      if (this.transport === transport) this.transport = null;
      transport.close();
      peer.destroy();
      if (last || !isTaken(err)) this.setConnectionState('disconnected', err as CallingError);
      throw err;
    }
    this.tokens.keepFresh(() => this.peer === peer && !peer.destroyed, () => peer.open, (fresh) => this.transport?.sendToken(fresh));
    peer.on('error', (err) => this.onPeerError(err));
    peer.on('disconnected', () => {
      if (this.peer === peer) this.reconnector.schedule(peer);
    });
    peer.on('open', () => {
      if (this.peer !== peer) return;
      this.reconnector.reset();
      this.setConnectionState('connected');
      for (const call of this.calls.values()) call._signallingBack();
    });
    this.devices.get().catch(() => undefined);
    globalThis.addEventListener?.('pagehide', this.onPageHide);
    this.setConnectionState('connected');
  }

  /** A closing tab says goodbye: the far end sees `hungUp` (or this device stop ringing) at once, not a failure later. */
  private readonly onPageHide = (): void => {
    this.leaving = true; // a tab leaving declines for itself only, never for the user's other devices
    for (const call of [...this.calls.values()]) call.hangup();
    this.leaving = false;
  };

  /** The call transport on `peer`: incoming invites, media offers, ICE restarts and signalling news, for the calls. */
  private transportFor(peer: Peer): PeerTransport {
    // The transport listens before the socket opens: offers the server queued for this id while it was away arrive
    // in the same read as OPEN, and PeerJS would answer them unseen.
    const transport: PeerTransport = new PeerTransport(peer, {
      accepts: (invite) => this.supportCalling && !this.calls.has(invite.callId),
      invite: (data, invite) => this.onInvite(transport, data, invite),
      media: (callId, media) => {
        const call = this.calls.get(callId);
        call?._receiveMedia(media);
        return !!call;
      },
      unavailable: (peerId) => {
        for (const call of [...this.calls.values()]) call._unavailable(peerId);
      },
      iceRestart: (src, restart) => this.calls.get(restart.callId)?._iceRestart(src, restart),
      iceServers: (servers) => {
        this.serverIceServers = servers;
        if (!this.options.iceServers) peer.options.config.iceServers = servers;
      },
    }, this.timings.connectTimeout);
    return transport;
  }

  /** Hangs up every call and disconnects. The client can be started again. */
  async stop(): Promise<void> {
    const peer = this.peer;
    if (!peer) return;
    // Calls ended by stopping get no end tone, and no SDK sound outlives the client.
    this.tonePolicy?.reset();
    this._audioController?.stopAll();
    this.notifier.closeAll();
    const calls = [...this.calls.values()];
    for (const call of calls) call.hangup();
    this.tokens.stop();
    globalThis.removeEventListener?.('pagehide', this.onPageHide);
    this.devices.close();
    this.transport?.close();
    this.transport = null;
    this.peer = null;
    this.reconnector.reset();
    // Let the hang-up messages leave before the sockets close.
    if (calls.length) await new Promise((r) => setTimeout(r, 350));
    peer.destroy();
    this.setConnectionState('disconnected');
  }

  /** Calls another app user, audio only. */
  callUser(userId: string, options: { headers?: Record<string, string> } = {}): Call {
    return this.placeUserCall(userId, false, options.headers);
  }

  /** Calls another app user with audio and video. */
  callUserVideo(userId: string, options: { headers?: Record<string, string> } = {}): Call {
    return this.placeUserCall(userId, true, options.headers);
  }

  /**
   * Calls a phone number, E.164 with the required '+' (e.g. "+14155550101"), through the calling gateway.
   * The test number +46000000000 plays a voice prompt and hangs up.
   */
  callPhoneNumber(number: string): Call {
    this.assertCanCall();
    assertPhoneNumber(number);
    return this.placeCall('phone', number, GATEWAY_PEER_ID, false, {});
  }

  /**
   * Calls a SIP address (`user@domain`, optionally `:port`) through the calling gateway. Custom headers must be
   * named `x-…`; they travel with the INVITE.
   */
  callSip(identity: string, options: { headers?: Record<string, string> } = {}): Call {
    this.assertCanCall();
    assertSipAddress(identity);
    return this.placeCall('sip', identity, GATEWAY_PEER_ID, false, validateHeaders(options.headers));
  }

  /** Joins a conference room (id: 1 to 64 letters, digits, '.', '-' or '_'), created by its first participant. */
  callConference(conferenceId: string): Call {
    this.assertCanCall();
    assertConferenceId(conferenceId);
    return this.placeCall('conference', conferenceId, CONFERENCE_PEER_ID, false, {});
  }

  /**
   * The signed-in user's recent calls (all devices), newest first, from the calling server's call records; ended
   * calls only. Page on with `before`: the `callId` of the last entry shown. Rejects with a `CallingError`:
   * `capability`/`not-started` while not connected, `argument` for a bad `limit` or cursor, `network`/`history-timeout`.
   */
  async getCallHistory(options?: CallHistoryOptions): Promise<CallHistoryEntry[]> {
    const socket = this._connectionState === 'connected' ? this.peer?.socket : undefined;
    if (!socket) throw new CallingError('capability', 'not-started', 'Not connected to the calling server.');
    const { requestCallHistory } = await loadHistoryChunk();
    // In the one-file bundle the chunk has its own copy of CallingError: hand out this one's.
    return requestCallHistory(socket, options, this.timings.connectTimeout).catch((err: CallingError) => { throw errorFromWire(err); });
  }

  // ---------------------------------------------------------------------------------------------------------------

  private placeUserCall(userId: string, video: boolean, headers?: Record<string, string>): Call {
    this.assertCanCall();
    assertUserId(userId, 'callee user id');
    if (userId === this.userId) {
      throw new CallingError('argument', 'calling-self', 'You cannot call yourself.');
    }
    const checked = validateHeaders(headers);
    const devices = this.assertCanCall().queryDevices(userId, Math.min(DEVICE_QUERY_TIMEOUT_MS, this.timings.connectTimeout));
    // No answer in time (an older server): the call goes to the plain user id, as with one device.
    return this.placeCall('user', userId, userId, video, checked, devices.then((d) => d ?? []));
  }

  private placeCall(
    callType: CallType, to: string, remotePeerId: string, video: boolean, headers: Record<string, string>, devices?: Promise<readonly string[]>,
  ): Call {
    const transport = this.assertCanCall();
    const call = new CallSession(this.hostFor(transport), {
      id: newCallId(),
      direction: 'outgoing',
      callType,
      remote: { id: to },
      remotePeerId,
      video,
      headers,
    });
    this.calls.set(call.id, call);
    call.addEventListener('ended', () => reportCallEnd(transport, call), { once: true });
    this.dispatchEvent(new CallStartedEvent(call));
    void call._placeOutgoing({
      from: this.userId,
      to,
      callType,
      video,
      headers,
      ...(this.displayName ? { displayName: this.displayName } : {}),
    }, devices);
    return call;
  }

  private assertCanCall(): PeerTransport {
    if (!this.supportCalling) {
      throw new CallingError('capability', 'calling-not-supported', 'Calling is not enabled: call setSupportCalling(true) before start().');
    }
    if (!this.transport || this._connectionState !== 'connected') {
      throw new CallingError('capability', 'not-started', 'The client is not started: await start() before placing calls.');
    }
    return this.transport;
  }

  private hostFor(transport: PeerTransport): CallHost {
    const client = this;
    return {
      transport,
      userId: this.userId,
      ...(this.displayName ? { displayName: this.displayName } : {}),
      timings: this.timings,
      get declineOnAllDevices() { return !client.leaving && client.options.declineOnAllDevices === true; },
      getUserMedia: (constraints) => this.devices.getUserMedia(constraints),
      devices: () => this.devices.get(),
      holdOthers: (call) => holdOthers(this.calls.values(), call),
      release: (call) => {
        this.calls.delete(call.id);
        transport.dropHeldMedia(call.id);
      },
    };
  }

  private onInvite(transport: PeerTransport, data: DataConnection, invite: InviteMessage): void {
    const displayName = cleanDisplayName(invite.displayName);
    const busy = liveCallCount(this.calls.values()) >= this.maxCalls;
    const call = new CallSession(this.hostFor(transport), {
      id: invite.callId,
      direction: 'incoming',
      callType: invite.callType,
      remote: { id: invite.from, ...(displayName ? { displayName } : {}) },
      remotePeerId: data.peer,
      video: invite.video,
      headers: invite.headers,
    });
    this.calls.set(call.id, call);
    call.addEventListener('ended', () => reportCallEnd(transport, call), { once: true });
    if (busy) {
      call._declineBusy(data);
      return;
    }
    call._receiveIncoming(data);
    const held = transport.takeHeldMedia(call.id);
    if (held) call._receiveMedia(held);
    this.dispatchEvent(new IncomingCallEvent(call));
  }

  private onPeerError(err: PeerError<string>): void {
    // A callee that is not online: the transport ends the calls it concerns.
    if (err.type === 'peer-unavailable') return;
    const error = signallingError(err);
    // Losing the server is handled by reconnecting (see reconnect.ts); report it once, not per attempt.
    if (this._connectionState === 'reconnecting' && isConnectionError(err.type)) return;
    this.dispatchEvent(new CallClientErrorEvent(error));
  }

  private setConnectionState(state: ConnectionState, error?: CallingError): void {
    if (state === this._connectionState) return;
    this._connectionState = state;
    this.dispatchEvent(new ConnectionStateChangeEvent(state, error));
  }
}

/**
 * Tells the server how a call ended, for its call records. The server keeps its own clock and cross-checks the cause
 * against what it relayed (see `src/server/storage/call-recorder.ts`); stock PeerServer ignores the message.
 */
function reportCallEnd(transport: PeerTransport, call: Call): void {
  const { endCause, error } = call.details;
  if (endCause) transport.reportCallEnd(call.id, endCause, error);
}

