// Choosing microphone, camera and speaker, also in the middle of a call, and screen sharing. Everything here but
// `deviceConstraints` and the types is loaded lazily (media-chunk.ts): it imports no class of the main bundle, and
// makes its errors with the host's `CallingError`.
import type { CallingError } from './errors.js';

/** The three kinds of device a user chooses. */
export type DeviceKind = 'audioInput' | 'videoInput' | 'audioOutput';

/** One device as `client.getDevices()` lists it. `label` is empty until the user granted media permission. */
export interface MediaDevice {
  readonly deviceId: string;
  readonly label: string;
  readonly groupId: string;
}

/** What `client.getDevices()` resolves with: the devices of each kind, as the browser lists them. */
export interface MediaDeviceLists {
  readonly audioInput: readonly MediaDevice[];
  readonly videoInput: readonly MediaDevice[];
  readonly audioOutput: readonly MediaDevice[];
}

/** The chosen device of each kind; a missing kind is the system default. */
export type DeviceChoice = Partial<Record<DeviceKind, string>>;

/** `getUserMedia` constraints for `wanted`, with the chosen microphone and camera. */
export function deviceConstraints(wanted: MediaStreamConstraints, chosen: DeviceChoice): MediaStreamConstraints {
  const pick = (on: MediaStreamConstraints['audio'], id: string | undefined) => (on && id ? { deviceId: { exact: id } } : on);
  return { audio: pick(wanted.audio, chosen.audioInput), video: pick(wanted.video, chosen.videoInput) };
}

/** What the device manager needs to know of a call. */
export interface DeviceCall {
  readonly state: string;
  readonly callType: string;
  readonly hasVideo: boolean;
  readonly localStream: MediaStream | null;
  readonly isScreenSharing: boolean;
  /** @internal */ readonly _peerConnection: RTCPeerConnection | undefined;
  /** @internal Screen sharing started or stopped: tell the other side, fire the events. */
  _screenShared(sharing: boolean): void;
}

/** What the device manager needs from its client. */
export interface DeviceHost {
  /** The client's choices, changed in place. */
  readonly chosen: DeviceChoice;
  /** The client's calls that have not ended. */
  calls(): readonly DeviceCall[];
  getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream>;
  /** The lists or the choices changed; `fallback`: the kinds whose device went away (now the default). */
  changed(devices: MediaDeviceLists, fallback: DeviceKind[]): void;
  readonly CallingError: typeof CallingError;
  mediaError(err: unknown): CallingError;
}

const TRACK_KIND = { audioInput: 'audio', videoInput: 'video' } as const;
const BROWSER_KIND = { audioInput: 'audioinput', videoInput: 'videoinput', audioOutput: 'audiooutput' } as const;
const NAMES = { audioInput: 'microphone', videoInput: 'camera', audioOutput: 'audio output' } as const;
const KINDS: readonly DeviceKind[] = ['audioInput', 'videoInput', 'audioOutput'];

/**
 * A client's devices: lists them, follows the browser's `devicechange`, switches the live calls' tracks
 * (`RTCRtpSender.replaceTrack`, no renegotiation, the old track stopped) and falls back to the default device when a
 * chosen one goes away (its track ends, or it leaves the list). Switches run one after another.
 */
export class DeviceManager {
  private lists: MediaDeviceLists = { audioInput: [], videoInput: [], audioOutput: [] };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watched = new WeakSet<MediaStreamTrack>();
  private readonly screens = new WeakMap<DeviceCall, MediaStreamTrack>();
  private readonly onDeviceChange = () => void this.serial(() => this.refresh());

  constructor(private readonly host: DeviceHost) {
    navigator.mediaDevices?.addEventListener('devicechange', this.onDeviceChange);
  }

  /** Stops following the browser's device changes (the client stopped). */
  close(): void {
    navigator.mediaDevices?.removeEventListener('devicechange', this.onDeviceChange);
  }

  /** The current lists (read afresh: labels appear once media permission is granted). */
  list(): Promise<MediaDeviceLists> {
    return this.serial(() => this.enumerate());
  }

  /** Chooses the device of `kind` (`''` or `'default'`: the system default) and moves the live calls to it. */
  select(kind: DeviceKind, deviceId: unknown): Promise<void> {
    const { CallingError } = this.host;
    if (typeof deviceId !== 'string' || deviceId.length > 512) {
      return Promise.reject(new CallingError('argument', 'invalid-media-device', `The ${NAMES[kind]} id must be a string.`));
    }
    if (kind === 'audioOutput' && !('setSinkId' in HTMLMediaElement.prototype)) {
      return Promise.reject(new CallingError('capability', 'sink-not-supported', 'This browser cannot choose the audio output device.'));
    }
    return this.serial(async () => {
      const id = deviceId === '' || deviceId === 'default' ? undefined : deviceId;
      const lists = await this.enumerate();
      if (id !== undefined && !lists[kind].some((d) => d.deviceId === id)) {
        throw new CallingError('argument', 'unknown-media-device', `No ${NAMES[kind]} "${deviceId}" is connected.`);
      }
      const { chosen } = this.host;
      const previous = chosen[kind];
      if (id === undefined) delete chosen[kind];
      else chosen[kind] = id;
      try {
        if (kind !== 'audioOutput') await this.switchCalls(kind, () => true);
      } catch (err) {
        if (previous === undefined) delete chosen[kind];
        else chosen[kind] = previous;
        throw this.host.mediaError(err);
      }
      this.host.changed(lists, []);
    });
  }

  /** Follows a track a call got from `getUserMedia`: when its device goes away, the call gets the default one. */
  watch(stream: MediaStream): void {
    for (const track of stream.getTracks()) {
      if (this.watched.has(track)) continue;
      this.watched.add(track);
      track.addEventListener('ended', () => void this.serial(() => this.lost(track)), { once: true });
    }
  }

  /** Shares the screen on `call` in place of its camera (the camera is stopped, and comes back on stop). */
  async startScreenShare(call: DeviceCall): Promise<void> {
    const { CallingError } = this.host;
    if (!navigator.mediaDevices?.getDisplayMedia) {
      throw new CallingError('capability', 'screen-share-not-supported', 'This browser cannot share the screen.');
    }
    if (call.state !== 'established' && call.state !== 'reconnecting') {
      throw new CallingError('capability', 'invalid-state', 'The screen can be shared once the call is established.');
    }
    if (call.callType !== 'user' || !call.hasVideo || !call.localStream?.getVideoTracks().length) {
      throw new CallingError('capability', 'screen-share-needs-video', 'The screen can be shared on video calls between app users only.');
    }
    if (call.isScreenSharing) return;
    let display: MediaStream;
    try {
      display = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    } catch (err) {
      throw this.host.mediaError(err);
    }
    const screen = display.getVideoTracks()[0];
    if (!screen) throw new CallingError('media', 'media-failed', 'The screen could not be shared.');
    if (!call.localStream || (call.state !== 'established' && call.state !== 'reconnecting')) {
      screen.stop();
      return;
    }
    screen.contentHint = 'detail';
    await replaceTrack(call, screen);
    this.screens.set(call, screen);
    // The browser's own "Stop sharing" ends the track.
    screen.addEventListener('ended', () => void this.stopScreenShare(call).catch(() => undefined), { once: true });
    call._screenShared(true);
  }

  /** Stops sharing the screen on `call`: the chosen camera comes back. */
  stopScreenShare(call: DeviceCall): Promise<void> {
    return this.serial(async () => {
      const screen = this.screens.get(call);
      if (!screen) return;
      this.screens.delete(call);
      if (call.state === 'ended') return;
      try {
        const camera = await this.acquire('videoInput');
        if (call.state === 'ended' || !call.localStream) camera.stop();
        else await replaceTrack(call, camera);
      } catch (err) {
        await replaceTrack(call, null);
        throw this.host.mediaError(err);
      } finally {
        screen.stop();
        call._screenShared(false);
      }
    });
  }

  private serial<T>(job: () => Promise<T>): Promise<T> {
    const run = this.queue.then(job, job);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async enumerate(): Promise<MediaDeviceLists> {
    const all = (await navigator.mediaDevices?.enumerateDevices().catch(() => undefined)) ?? [];
    const of = (kind: DeviceKind) => Object.freeze(all.filter((d) => d.kind === BROWSER_KIND[kind])
      .map((d) => Object.freeze({ deviceId: d.deviceId, label: d.label, groupId: d.groupId })));
    this.lists = Object.freeze({ audioInput: of('audioInput'), videoInput: of('videoInput'), audioOutput: of('audioOutput') });
    return this.lists;
  }

  /** The browser's list changed: a chosen device that left it falls back to the default. */
  private async refresh(): Promise<void> {
    const before = this.lists;
    const lists = await this.enumerate();
    const { chosen } = this.host;
    const fallback = KINDS.filter((k) => chosen[k] !== undefined && !lists[k].some((d) => d.deviceId === chosen[k]));
    for (const kind of fallback) {
      delete chosen[kind];
      if (kind !== 'audioOutput') await this.switchCalls(kind, () => true).catch(() => undefined);
    }
    if (fallback.length || KINDS.some((k) => ids(before[k]) !== ids(lists[k]))) this.host.changed(lists, fallback);
  }

  /** A call's microphone or camera track ended by itself (unplugged): that call gets the default device. */
  private async lost(track: MediaStreamTrack): Promise<void> {
    const kind = track.kind === 'audio' ? 'audioInput' : 'videoInput';
    const hit = (call: DeviceCall) => !!call.localStream?.getTracks().includes(track);
    if (!this.host.calls().some(hit)) return;
    const { chosen } = this.host;
    const lists = await this.enumerate();
    // The chosen device left the list, or is listed still (the browser's devicechange comes later) but cannot start.
    let gone = chosen[kind] !== undefined && !lists[kind].some((d) => d.deviceId === chosen[kind]);
    if (gone) delete chosen[kind];
    await this.switchCalls(kind, hit).catch(async () => {
      if (chosen[kind] === undefined) return;
      delete chosen[kind];
      gone = true;
      await this.switchCalls(kind, hit).catch(() => undefined);
    });
    this.host.changed(lists, gone ? [kind] : []);
  }

  /** Gives the live calls that `which` picks a new track of the chosen device of `kind`. */
  private async switchCalls(kind: 'audioInput' | 'videoInput', which: (call: DeviceCall) => boolean): Promise<void> {
    const trackKind = TRACK_KIND[kind];
    const calls = this.host.calls().filter((c) => which(c) && c.localStream?.getTracks().some((t) => t.kind === trackKind)
      // A call sharing its screen gets the chosen camera when the sharing stops.
      && !(kind === 'videoInput' && this.screens.has(c)));
    if (!calls.length) return;
    const track = await this.acquire(kind);
    for (const [i, call] of calls.entries()) {
      const copy = i === 0 ? track : track.clone();
      if (call.state === 'ended' || !call.localStream) copy.stop();
      else await replaceTrack(call, copy);
    }
  }

  /** A new track of the chosen device of `kind`, followed for unplugging. */
  private async acquire(kind: 'audioInput' | 'videoInput'): Promise<MediaStreamTrack> {
    const wanted = kind === 'audioInput' ? { audio: true, video: false } : { audio: false, video: true };
    const stream = await this.host.getUserMedia(deviceConstraints(wanted, this.host.chosen));
    const track = stream.getTracks().find((t) => t.kind === TRACK_KIND[kind]);
    for (const t of stream.getTracks()) if (t !== track) t.stop();
    if (!track) throw Object.assign(new Error(`getUserMedia gave no ${TRACK_KIND[kind]} track`), { name: 'NotFoundError' });
    this.watch(stream);
    return track;
  }
}

/**
 * Puts `track` (or, with null, nothing of its kind: video only) in place of the call's local track of its kind: on
 * the sender (no renegotiation) and in `localStream`; the old track is stopped. The new one keeps the old one's
 * `enabled` (mute, video pause).
 */
async function replaceTrack(call: DeviceCall, track: MediaStreamTrack | null): Promise<void> {
  const stream = call.localStream;
  const kind = track?.kind ?? 'video';
  const old = stream?.getTracks().find((t) => t.kind === kind);
  const pc = call._peerConnection;
  const sender = pc?.getSenders().find((s) => (old && s.track === old) || s.track?.kind === kind)
    ?? pc?.getTransceivers().find((t) => t.receiver.track.kind === kind)?.sender;
  if (track && old) track.enabled = old.enabled;
  try {
    await sender?.replaceTrack(track);
  } catch (err) {
    track?.stop();
    throw err;
  }
  if (old) {
    stream?.removeTrack(old);
    old.stop();
  }
  if (track) stream?.addTrack(track);
}

function ids(list: readonly MediaDevice[]): string {
  return list.map((d) => d.deviceId).join('\n');
}
