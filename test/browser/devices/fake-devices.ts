// A second microphone and a second camera for the device tests, in this test page only. Chromium's fake-device flags
// list two fake microphones that play the same beep and one camera, so a switch between them could not be heard or
// seen on the other side. This stubs `navigator.mediaDevices.enumerateDevices` / `getUserMedia` to add a "headset"
// (a 1000 Hz Web Audio oscillator) and a "document camera" (a canvas painted magenta), and can unplug them.
// Everything else goes to Chromium's own fake devices.
import { toneStream } from '../helpers.js';

export const HEADSET = { deviceId: 'test-headset', kind: 'audioinput', label: 'Test headset', groupId: 'test-usb' } as const;
export const DOC_CAMERA = { deviceId: 'test-doc-camera', kind: 'videoinput', label: 'Test document camera', groupId: 'test-usb' } as const;
export const HEADSET_HZ = 1000;

const media = navigator.mediaDevices;
const realEnumerate = media.enumerateDevices.bind(media);
const realGetUserMedia = media.getUserMedia.bind(media);
const cleanups: Array<() => void> = [];
let plugged = false;

/** The device a constraint asks for exactly, if any. */
function exactId(c: boolean | MediaTrackConstraints | undefined): string | undefined {
  const id = typeof c === 'object' ? c.deviceId : undefined;
  return typeof id === 'object' && !Array.isArray(id) && typeof id.exact === 'string' ? id.exact : undefined;
}

function headsetTrack(): MediaStreamTrack {
  const ctx = new AudioContext();
  void ctx.resume();
  cleanups.push(() => void ctx.close());
  return toneStream(ctx, HEADSET_HZ, 0.5).getAudioTracks()[0]!;
}

function docCameraTrack(): MediaStreamTrack {
  const canvas = document.createElement('canvas');
  canvas.width = 320;
  canvas.height = 240;
  const g = canvas.getContext('2d')!;
  const paint = () => {
    g.fillStyle = '#ff00ff';
    g.fillRect(0, 0, canvas.width, canvas.height);
  };
  paint();
  const timer = setInterval(paint, 50);
  cleanups.push(() => clearInterval(timer));
  return canvas.captureStream(20).getVideoTracks()[0]!;
}

/** Plugs the test devices in (or out: then they leave the list, and asking for them fails as for a real device). */
export function plug(on: boolean): void {
  plugged = on;
}

/** Tells the page the device list changed, as the browser does when a device is plugged in or out. */
export function announceDeviceChange(): void {
  media.dispatchEvent(new Event('devicechange'));
}

/** Installs the stub (plugged in). */
export function installFakeDevices(): void {
  plugged = true;
  media.enumerateDevices = async () => {
    const real = await realEnumerate();
    return plugged ? [...real, HEADSET as unknown as MediaDeviceInfo, DOC_CAMERA as unknown as MediaDeviceInfo] : real;
  };
  media.getUserMedia = async (c: MediaStreamConstraints = {}) => {
    const headset = exactId(c.audio) === HEADSET.deviceId;
    const camera = exactId(c.video) === DOC_CAMERA.deviceId;
    if ((headset || camera) && !plugged) throw new DOMException('Requested device not found', 'NotFoundError');
    const tracks: MediaStreamTrack[] = [];
    if (c.audio) tracks.push(headset ? headsetTrack() : (await realGetUserMedia({ audio: c.audio })).getAudioTracks()[0]!);
    if (c.video) tracks.push(camera ? docCameraTrack() : (await realGetUserMedia({ video: c.video })).getVideoTracks()[0]!);
    return new MediaStream(tracks);
  };
}

/** Puts the real `navigator.mediaDevices` back. */
export function removeFakeDevices(): void {
  media.enumerateDevices = realEnumerate;
  media.getUserMedia = realGetUserMedia;
  for (const c of cleanups.splice(0)) c();
}

/** The colour at the centre of what `video` shows now: [r, g, b]. */
export function centreColour(video: HTMLVideoElement): [number, number, number] {
  const canvas = document.createElement('canvas');
  canvas.width = 16;
  canvas.height = 16;
  const g = canvas.getContext('2d', { willReadFrequently: true })!;
  g.drawImage(video, video.videoWidth / 2 - 8, video.videoHeight / 2 - 8, 16, 16, 0, 0, 16, 16);
  const [r, gr, b] = g.getImageData(8, 8, 1, 1).data;
  return [r!, gr!, b!];
}

/** A muted, playing <video> of `stream` (in the page, so Chromium decodes it); removed by `removeFakeDevices()`. */
export async function watchVideo(stream: MediaStream): Promise<HTMLVideoElement> {
  const video = document.createElement('video');
  video.muted = true;
  video.srcObject = stream;
  document.body.append(video);
  cleanups.push(() => video.remove());
  await video.play().catch(() => undefined);
  return video;
}

export const isMagenta = ([r, g, b]: [number, number, number]) => r > 200 && g < 60 && b > 200;
