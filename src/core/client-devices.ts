// A client's side of choosing devices: the choices (every call's getUserMedia needs them, so they are in the main
// bundle) and the device manager from the media chunk (media-devices.ts), made on first use.
import { loadMediaChunk } from './chunks.js';
import { CallingError, mediaError } from './errors.js';
import { DeviceChangeEvent } from './events.js';
import { deviceConstraints, type DeviceCall, type DeviceChoice, type DeviceKind, type DeviceManager, type MediaDeviceLists } from './media-devices.js';

/** Internal to `CallClient`. */
export class ClientDevices {
  /** The chosen microphone, camera and audio output (absent: the system default). */
  readonly chosen: DeviceChoice = {};
  private manager: Promise<DeviceManager> | null = null;

  constructor(
    /** Where `devicechange` is dispatched (the client). */
    private readonly target: EventTarget,
    private readonly calls: () => readonly DeviceCall[],
    private readonly rawGetUserMedia: (constraints: MediaStreamConstraints) => Promise<MediaStream>,
  ) {}

  /** The device manager; from its making on it follows the browser's device list. A failed chunk load is retried. */
  get(): Promise<DeviceManager> {
    return (this.manager ??= loadMediaChunk().then(({ DeviceManager }) => new DeviceManager({
      chosen: this.chosen,
      calls: this.calls,
      getUserMedia: this.rawGetUserMedia,
      changed: (devices, fallback) => this.target.dispatchEvent(new DeviceChangeEvent(devices, fallback)),
      CallingError,
      mediaError,
    }), (err: unknown) => {
      this.manager = null;
      throw err;
    }));
  }

  async list(): Promise<MediaDeviceLists> {
    return (await this.get()).list();
  }

  async select(kind: DeviceKind, deviceId: string): Promise<void> {
    return (await this.get()).select(kind, deviceId);
  }

  /** A call's media, from the chosen devices; the manager follows its tracks, to fall back when one is unplugged. */
  async getUserMedia(constraints: MediaStreamConstraints): Promise<MediaStream> {
    const stream = await this.rawGetUserMedia(deviceConstraints(constraints, this.chosen));
    this.get().then((m) => m.watch(stream), () => undefined);
    return stream;
  }

  /** The client stopped: stop following the device list (the choices stay for its next start). */
  close(): void {
    void this.manager?.then((m) => m.close(), () => undefined);
    this.manager = null;
  }
}
