/**
 * A scripted stand-in for `CallClient` and `Call`, for Storybook only: no server, no PeerJS, no microphone. It has
 * the members the elements use (checked against the real classes below) and walks a call through its states on
 * timers, or holds it in one state for a still story.
 */
import {
  CallingError, type Call, type CallClient, type CallHistoryEntry, type CallHistoryOptions, type CallDetails, type CallDirection, type CallEndCause,
  type CallParticipant, type CallState, type CallType, type ConnectionState, type DeviceKind, type MediaDeviceLists,
} from '../../src/core/index.js';

// The public members of the real classes that the fakes provide, with the real types (events aside).
type CallMembers =
  | 'id' | 'direction' | 'callType' | 'remoteUserId' | 'participants' | 'state' | 'details' | 'localStream'
  | 'remoteStream' | 'isMuted' | 'isVideoPaused' | 'isRemoteMuted' | 'isRemoteVideoPaused' | 'hasVideo' | 'answer'
  | 'hangup' | 'mute' | 'unmute' | 'pauseVideo' | 'resumeVideo' | 'sendDtmf' | 'isOnHold' | 'isRemoteOnHold' | 'hold' | 'unhold'
  | 'isScreenSharing' | 'isRemoteScreenSharing' | 'startScreenShare' | 'stopScreenShare';
type ClientMembers = 'userId' | 'displayName' | 'connectionState' | 'isCallingSupported' | 'setSupportCalling' | 'start' | 'stop' | 'getCallHistory'
  | 'getDevices' | 'setAudioInputDevice' | 'setVideoInputDevice' | 'setAudioOutputDevice' | 'chosenDevices';

/** When a scripted outgoing call progresses, rings and is answered or ends (ms after it was placed). */
export interface ScriptTimes { progress: number; ring: number; answer: number }

/** How a scripted outgoing call turns out. */
export type Outcome = 'answer' | Exclude<CallEndCause, 'hungUp' | 'canceled' | 'otherDeviceAnswered'>;

export interface FakeCallInit {
  direction?: CallDirection;
  callType?: CallType;
  remote?: CallParticipant;
  video?: boolean;
  state?: CallState;
  endCause?: CallEndCause;
  error?: CallingError;
  muted?: boolean;
  videoPaused?: boolean;
  remoteMuted?: boolean;
  remoteVideoPaused?: boolean;
  /** This side holds the call. */
  onHold?: boolean;
  /** The other side holds the call. */
  remoteOnHold?: boolean;
  /** This side shares its screen. */
  screenSharing?: boolean;
  /** The other side shares its screen (its video is a wide screen picture). */
  remoteScreenSharing?: boolean;
  /** Seconds the call has been established (for the timer). */
  elapsed?: number;
}

class FakeEvent extends Event {
  constructor(type: string, readonly call: FakeCall) { super(type); }
}
class FakeHoldEvent extends FakeEvent {
  constructor(call: FakeCall, readonly onHold: boolean, readonly by: 'local' | 'remote') { super('holdchange', call); }
}
class FakeClientEvent extends Event {
  constructor(type: string, readonly call?: FakeCall, readonly state?: ConnectionState, readonly error?: CallingError) { super(type); }
}

/** A moving picture with a label: stands in for a camera (canvas.captureStream needs no permission). */
export function fakeCameraStream(label: string, hue: number, width = 320, height = 240): MediaStream {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  let frame = 0;
  const draw = () => {
    if (!ctx) return;
    const g = ctx.createLinearGradient(0, 0, width, height);
    g.addColorStop(0, `hsl(${(hue + frame) % 360} 60% 35%)`);
    g.addColorStop(1, `hsl(${(hue + frame + 60) % 360} 60% 20%)`);
    ctx.fillStyle = g;
    ctx.fillRect(0, 0, width, height);
    ctx.fillStyle = '#fff';
    ctx.font = '600 28px system-ui, sans-serif';
    ctx.textAlign = 'center';
    ctx.fillText(label, width / 2, height / 2 + 10);
    frame = (frame + 1) % 360;
  };
  draw();
  const timer = setInterval(draw, 100);
  const stream = canvas.captureStream(10);
  stream.getVideoTracks()[0]?.addEventListener('ended', () => clearInterval(timer));
  return stream;
}

export class FakeCall extends EventTarget implements Pick<Call, CallMembers> {
  readonly id = `fake-${Math.random().toString(36).slice(2)}`;
  readonly direction: CallDirection;
  readonly callType: CallType;
  readonly remoteUserId: string;
  readonly participants: readonly CallParticipant[];
  private _state: CallState;
  private _details: CallDetails;
  private _local: MediaStream | null = null;
  private _remote: MediaStream | null = null;
  private _muted: boolean;
  private _videoPaused: boolean;
  private _remoteMuted: boolean;
  private _remoteVideoPaused: boolean;
  private _onHold: boolean;
  private _remoteOnHold: boolean;
  private _screenSharing: boolean;
  private readonly remoteScreen: boolean;
  private readonly video: boolean;
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(private readonly owner: FakeCallClient, init: FakeCallInit = {}) {
    super();
    this.direction = init.direction ?? 'outgoing';
    this.callType = init.callType ?? 'user';
    const remote = init.remote ?? { id: 'bob', displayName: 'Bob Lindqvist' };
    this.remoteUserId = remote.id;
    this.participants = [remote];
    this.video = init.video ?? false;
    this._state = init.state ?? 'initiating';
    this._muted = init.muted ?? false;
    this._videoPaused = init.videoPaused ?? false;
    this._remoteMuted = init.remoteMuted ?? false;
    this._remoteVideoPaused = init.remoteVideoPaused ?? false;
    this._onHold = init.onHold ?? false;
    this._remoteOnHold = init.remoteOnHold ?? false;
    this._screenSharing = init.screenSharing ?? false;
    this.remoteScreen = init.remoteScreenSharing ?? false;
    const now = Date.now();
    const established = this._state === 'established' ? new Date(now - (init.elapsed ?? 0) * 1000) : undefined;
    this._details = Object.freeze({
      startedTime: new Date(now - 5000),
      ...(established ? { establishedTime: established, answeredTime: established } : {}),
      ...(this._state === 'ended' ? { endedTime: new Date(now), endCause: init.endCause ?? 'hungUp' } : {}),
      ...(init.error ? { error: init.error } : {}),
      duration: init.elapsed ?? 0,
      isVideoOffered: this.video,
      headers: {},
    });
    if (this._state === 'established' || this._state === 'answered') this.openMedia();
  }

  get state(): CallState { return this._state; }
  get details(): CallDetails { return this._details; }
  get localStream(): MediaStream | null { return this._local; }
  get remoteStream(): MediaStream | null { return this._remote; }
  get isMuted(): boolean { return this._muted; }
  get isVideoPaused(): boolean { return this._videoPaused; }
  get isRemoteMuted(): boolean { return this._remoteMuted; }
  get isRemoteVideoPaused(): boolean { return this._remoteVideoPaused; }
  get hasVideo(): boolean { return this.video && this._state !== 'ended'; }
  get isOnHold(): boolean { return this._onHold; }
  get isRemoteOnHold(): boolean { return this._remoteOnHold; }

  hold(): void { this.setHold('local', true); }
  /** Resumes, holding the client's other call first (swap), as the real SDK does. */
  unhold(): void {
    this.owner.holdOthers(this);
    this.setHold('local', false);
  }
  /** The other side holds or resumes (for scripted stories). */
  setRemoteHold(onHold: boolean): void { this.setHold('remote', onHold); }

  private setHold(by: 'local' | 'remote', onHold: boolean): void {
    if (this._state !== 'established' || (by === 'local' ? this._onHold : this._remoteOnHold) === onHold) return;
    if (by === 'local') this._onHold = onHold;
    else this._remoteOnHold = onHold;
    this.dispatchEvent(new FakeHoldEvent(this, onHold, by));
  }

  get isScreenSharing(): boolean { return this._screenSharing; }
  get isRemoteScreenSharing(): boolean { return this.remoteScreen; }
  async startScreenShare(): Promise<void> { this.setMedia(() => { this._screenSharing = true; }); }
  async stopScreenShare(): Promise<void> { this.setMedia(() => { this._screenSharing = false; }); }

  answer(options: { video?: boolean } = {}): void {
    if (this.direction !== 'incoming' || this._state === 'ended' || this._state === 'established') return;
    if (options.video === false) this._videoPaused = true;
    this.owner.holdOthers(this);
    this.setState('answered', { answeredTime: new Date() });
    this.later(400, () => this.establish());
  }

  hangup(): void {
    if (this._state === 'ended') return;
    const cause: CallEndCause =
      this._state === 'established' || this._state === 'answered' ? 'hungUp' : this.direction === 'incoming' ? 'denied' : 'canceled';
    this.end(cause);
  }

  mute(): void { this.setMedia(() => { this._muted = true; }); }
  unmute(): void { this.setMedia(() => { this._muted = false; }); }
  pauseVideo(): void { this.setMedia(() => { this._videoPaused = true; }); }
  resumeVideo(): void { this.setMedia(() => { this._videoPaused = false; }); }
  sendDtmf(_digits: string): void {}

  /** The other side mutes / pauses its camera (for scripted stories). */
  setRemote(muted: boolean, videoPaused: boolean): void {
    this.setMedia(() => {
      this._remoteMuted = muted;
      this._remoteVideoPaused = videoPaused;
    });
  }

  /** Walks an outgoing call: progressing → ringing → answered / the given end cause. */
  script(outcome: Outcome, ms: ScriptTimes = { progress: 400, ring: 900, answer: 2500 }): void {
    this.later(ms.progress, () => this.setState('progressing', { progressedTime: new Date() }));
    this.later(ms.ring, () => this.setState('ringing', { rungTime: new Date() }));
    this.later(ms.answer, () => {
      if (outcome === 'answer') {
        this.setState('answered', { answeredTime: new Date() });
        this.later(300, () => this.establish());
      } else {
        this.end(outcome, outcome === 'failure' ? new CallingError('network', 'ice-failed', 'The media connection failed.') : undefined);
      }
    });
  }

  end(cause: CallEndCause, error?: CallingError): void {
    if (this._state === 'ended') return;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of [this._local, this._remote]) for (const track of s?.getTracks() ?? []) track.stop();
    this.setState('ended', { endedTime: new Date(), endCause: cause, ...(error ? { error } : {}) });
    this.dispatchEvent(new FakeEvent('ended', this));
    this.owner.release(this);
  }

  private establish(): void {
    this.openMedia();
    this.dispatchEvent(new FakeEvent('remotestream', this));
    this.setState('established', { establishedTime: new Date() });
  }

  private openMedia(): void {
    if (!this.video) return;
    this._local ??= fakeCameraStream('You', 200);
    const name = this.participants[0]?.displayName ?? this.remoteUserId;
    this._remote ??= this.remoteScreen ? fakeCameraStream(`${name}: shared screen`, 120, 640, 280) : fakeCameraStream(name, 20);
  }

  private setState(state: CallState, times: Partial<CallDetails> = {}): void {
    this._state = state;
    this._details = Object.freeze({ ...this._details, ...times });
    this.dispatchEvent(new FakeEvent('statechange', this));
    this.dispatchEvent(new FakeEvent('detailschange', this));
  }

  private setMedia(change: () => void): void {
    change();
    this.dispatchEvent(new FakeEvent('mediachange', this));
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }
}

/** A stand-in for the core's audio controller: says whether the browser blocked sound until a click. */
export class FakeAudioController extends EventTarget {
  constructor(public locked = false) { super(); }
  unlock(): void {
    this.locked = false;
    this.dispatchEvent(new Event('autoplayunlocked'));
  }
}

export interface FakeClientOptions {
  userId?: string;
  displayName?: string;
  /** Connection state to start in; `start()` then goes `connecting` → `connected` unless `startError` is set. */
  connectionState?: ConnectionState;
  /** `start()` fails with this error (the connection stays `disconnected`). */
  startError?: CallingError;
  /** What an outgoing call does. Default: it is answered. */
  outcome?: Outcome;
  /** When an outgoing call progresses, rings and is answered (or ends), in ms after it is placed. */
  script?: ScriptTimes;
  /** A call to be in right away (a still story). */
  call?: FakeCallInit;
  /** A second call beside `call` (call waiting: one ringing in, or one held). */
  second?: FakeCallInit;
  /** Sound blocked by the browser until a click. */
  autoplayBlocked?: boolean;
  /** The devices `getDevices()` lists (default: two of each, with labels). */
  devices?: MediaDeviceLists;
  /**
   * The recent calls `getCallHistory()` pages through (newest first; default: none); `'loading'` never answers,
   * a `CallingError` is thrown.
   */
  history?: readonly CallHistoryEntry[] | 'loading' | CallingError;
}

/** A recent call for a story: `minutesAgo` before now. */
export function historyEntry(minutesAgo: number, init: Partial<CallHistoryEntry> = {}): CallHistoryEntry {
  return {
    callId: `h-${minutesAgo}-${init.remote ?? 'bob'}`, direction: 'outgoing', callType: 'user', remote: 'bob', video: false,
    startedAt: new Date(Date.now() - minutesAgo * 60_000), answered: true, duration: 95, endCause: 'hungUp', ...init,
  };
}

const device = (deviceId: string, label: string) => ({ deviceId, label, groupId: deviceId });
const DEVICES: MediaDeviceLists = {
  audioInput: [device('default', 'Default'), device('mic-laptop', 'Built-in microphone'), device('mic-headset', 'USB headset')],
  videoInput: [device('cam-laptop', 'FaceTime HD camera'), device('cam-usb', 'USB document camera')],
  audioOutput: [device('default', 'Default'), device('out-laptop', 'Built-in speakers'), device('out-headset', 'USB headset')],
};

export class FakeCallClient extends EventTarget implements Pick<CallClient, ClientMembers> {
  readonly userId: string;
  readonly displayName: string | undefined;
  readonly audioController: FakeAudioController;
  outcome: Outcome;
  private _state: ConnectionState;
  private supportCalling = true;
  private readonly calls: FakeCall[] = [];
  private chosen: Partial<Record<DeviceKind, string>> = {};

  constructor(private readonly options: FakeClientOptions = {}) {
    super();
    this.userId = options.userId ?? 'alice';
    this.displayName = options.displayName ?? 'Alice Ek';
    this._state = options.connectionState ?? 'connected';
    this.outcome = options.outcome ?? 'answer';
    this.audioController = new FakeAudioController(options.autoplayBlocked ?? false);
    // A still call stays listed after it ended, so that its outcome can be shown.
    if (options.call) this.calls.push(new FakeCall(this, options.call));
    if (options.second) this.calls.push(new FakeCall(this, options.second));
  }

  /** Holds every other established call not held yet (before `call` is answered or resumed). */
  holdOthers(call: FakeCall): void {
    for (const c of this.calls) if (c !== call && c.state === 'established' && !c.isOnHold) c.hold();
  }

  get connectionState(): ConnectionState { return this._state; }
  get isCallingSupported(): boolean { return this.supportCalling; }
  get activeCalls(): readonly FakeCall[] { return [...this.calls]; }

  setSupportCalling(enabled: boolean): void { this.supportCalling = enabled; }

  get chosenDevices(): Readonly<Partial<Record<DeviceKind, string>>> { return { ...this.chosen }; }
  async getDevices(): Promise<MediaDeviceLists> { return this.options.devices ?? DEVICES; }
  setAudioInputDevice(id: string): Promise<void> { return this.choose('audioInput', id); }
  setVideoInputDevice(id: string): Promise<void> { return this.choose('videoInput', id); }
  setAudioOutputDevice(id: string): Promise<void> { return this.choose('audioOutput', id); }

  private async choose(kind: DeviceKind, id: string): Promise<void> {
    this.chosen = { ...this.chosen, [kind]: id || undefined };
    if (!id) delete this.chosen[kind];
    this.dispatchEvent(new Event('devicechange'));
  }

  async start(): Promise<void> {
    this.setConnection('connecting');
    await new Promise((r) => setTimeout(r, 300));
    if (this.options.startError) {
      this.setConnection('disconnected', this.options.startError);
      throw this.options.startError;
    }
    this.setConnection('connected');
  }

  async stop(): Promise<void> {
    for (const c of [...this.calls]) c.hangup();
    this.setConnection('disconnected');
  }

  setConnection(state: ConnectionState, error?: CallingError): void {
    this._state = state;
    this.dispatchEvent(new FakeClientEvent('connectionstatechange', undefined, state, error));
  }

  callUser(userId: string): FakeCall { return this.place('user', userId, false); }
  callUserVideo(userId: string): FakeCall { return this.place('user', userId, true); }
  callPhoneNumber(number: string): FakeCall { return this.place('phone', number, false); }
  callSip(address: string): FakeCall { return this.place('sip', address, false); }
  callConference(id: string): FakeCall { return this.place('conference', id, false); }

  async getCallHistory(options: CallHistoryOptions = {}): Promise<CallHistoryEntry[]> {
    const history = this.options.history ?? [];
    await new Promise((r) => setTimeout(r, 200));
    if (history === 'loading') return new Promise(() => undefined);
    if (history instanceof CallingError) throw history;
    const from = options.before === undefined ? 0 : history.findIndex((e) => e.callId === options.before) + 1;
    return history.slice(from, from + (options.limit ?? 20));
  }

  /** Someone calls this user. */
  ringIn(from: CallParticipant = { id: 'bob', displayName: 'Bob Lindqvist' }, video = false): FakeCall {
    const call = new FakeCall(this, { direction: 'incoming', remote: from, video, state: 'ringing' });
    this.calls.push(call);
    this.dispatchEvent(new FakeClientEvent('incomingcall', call));
    return call;
  }

  /** The call the UI shows: the last one. */
  get currentCall(): FakeCall | undefined { return this.calls.at(-1); }

  release(call: FakeCall): void {
    // Keep the last call so its end stays visible; forget older ones.
    const i = this.calls.indexOf(call);
    if (i >= 0 && i < this.calls.length - 1) this.calls.splice(i, 1);
  }

  private place(callType: CallType, to: string, video: boolean): FakeCall {
    if (this._state !== 'connected') throw new CallingError('argument', 'not-started', 'The client is not connected.');
    this.calls.splice(0, this.calls.length, ...this.calls.filter((c) => c.state !== 'ended'));
    const call = new FakeCall(this, { direction: 'outgoing', callType, remote: { id: to }, video });
    this.calls.push(call);
    this.dispatchEvent(new FakeClientEvent('callstarted', call));
    call.script(this.outcome, this.options.script);
    return call;
  }
}

/**
 * The elements are typed against the real `CallClient`; the fake has its public surface (checked above through
 * `implements Pick<…>`) but not its private fields, so it is handed over through this one cast.
 */
export function asCallClient(fake: FakeCallClient): CallClient {
  return fake as unknown as CallClient;
}
