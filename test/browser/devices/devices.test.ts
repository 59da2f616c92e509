// Devices mid-call and screen sharing (issue #16), with two real clients calling through the run's calling server in
// real Chromium. The second microphone and camera are this page's stubs (fake-devices.ts: Chromium's fake flags give
// one beep and one camera); the screen is Chromium's own: headless Chromium with --use-fake-ui-for-media-stream
// shares a real (fake-UI-accepted) 800×450 screen through getDisplayMedia, so no getDisplayMedia stub is needed.
import { expect } from '@open-wc/testing';
import {
  CallingError, type Call, type CallClient, type CallScreenShareChangeEvent, type DeviceChangeEvent, type IncomingCallEvent,
} from '../../../src/core/index.js';
import { listenTo, nextEvent, recordEvents, startClient, stopClients, uniqueUser, waitFor } from '../helpers.js';
import {
  announceDeviceChange, centreColour, DOC_CAMERA, HEADSET, HEADSET_HZ, installFakeDevices, isMagenta, plug, removeFakeDevices, watchVideo,
} from './fake-devices.js';

async function pair(): Promise<{ alice: CallClient; bob: CallClient }> {
  const [alice, bob] = await Promise.all([startClient(uniqueUser('alice')), startClient(uniqueUser('bob'))]);
  return { alice, bob };
}

/** Alice calls Bob and Bob answers; resolves once both ends are established. */
async function establish(alice: CallClient, bob: CallClient, video = false): Promise<{ out: Call; inc: Call }> {
  const incoming = nextEvent<IncomingCallEvent>(bob, 'incomingcall');
  const out = video ? alice.callUserVideo(bob.userId) : alice.callUser(bob.userId);
  const inc = (await incoming).call;
  const established = Promise.all([nextEvent(out, 'established'), nextEvent(inc, 'established')]);
  inc.answer();
  await established;
  return { out, inc };
}

const isHeadset = (hz: number) => Math.abs(hz - HEADSET_HZ) < 50;
/** What the other side hears from now on: the jitter buffer first plays out what it holds of the old device. */
async function listenAfterSwitch(stream: MediaStream): Promise<{ peak: number; dominantHz: number }> {
  await new Promise((r) => setTimeout(r, 500));
  return listenTo(stream);
}

async function rejection(p: Promise<unknown>): Promise<CallingError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CallingError) return e;
    throw e;
  }
  throw new Error('did not reject');
}

beforeEach(installFakeDevices);
afterEach(async () => {
  await stopClients();
  removeFakeDevices();
});

describe('choosing devices', () => {
  it('lists microphones, cameras and outputs, and refuses ids that are not devices with typed errors', async () => {
    const { alice } = await pair();
    const devices = await alice.getDevices();
    expect(devices.audioInput.map((d) => d.deviceId)).to.include(HEADSET.deviceId);
    expect(devices.videoInput.map((d) => d.deviceId)).to.include(DOC_CAMERA.deviceId);
    expect(devices.audioOutput.length).to.be.greaterThan(0);

    const unknown = await rejection(alice.setAudioInputDevice('no-such-microphone'));
    expect([unknown.domain, unknown.code]).to.deep.equal(['argument', 'unknown-media-device']);
    const notString = await rejection(alice.setVideoInputDevice(42 as unknown as string));
    expect([notString.domain, notString.code]).to.deep.equal(['argument', 'invalid-media-device']);
    const badOutput = await rejection(alice.setAudioOutputDevice('no-such-speaker'));
    expect([badOutput.domain, badOutput.code]).to.deep.equal(['argument', 'unknown-media-device']);
    expect(alice.chosenDevices).to.deep.equal({});

    // A real output (Chromium's fake outputs) is taken and announced.
    const output = devices.audioOutput.find((d) => d.deviceId !== 'default')!;
    const change = nextEvent<DeviceChangeEvent>(alice, 'devicechange');
    await alice.setAudioOutputDevice(output.deviceId);
    expect((await change).fallback).to.deep.equal([]);
    expect(alice.chosenDevices).to.deep.equal({ audioOutput: output.deviceId });
    await alice.setAudioOutputDevice('default');
    expect(alice.chosenDevices).to.deep.equal({});
  });

  it('switching the microphone mid-call keeps the call, the other side hears the new one, the old track stops; the next call uses it too', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await establish(alice, bob);
    const before = await listenTo(inc.remoteStream!);
    expect(before.peak, 'Bob hears the default microphone').to.be.greaterThan(0.05);
    expect(isHeadset(before.dominantHz), `default microphone at ${before.dominantHz} Hz`).to.equal(false);

    const states = [...recordEvents(out, ['statechange', 'ended']), ...recordEvents(inc, ['statechange', 'ended'])];
    const oldTrack = out.localStream!.getAudioTracks()[0]!;
    const change = nextEvent<DeviceChangeEvent>(alice, 'devicechange');
    await alice.setAudioInputDevice(HEADSET.deviceId);
    expect((await change).fallback).to.deep.equal([]);
    expect(oldTrack.readyState, 'the old microphone is released').to.equal('ended');
    expect(out.localStream!.getAudioTracks()).to.have.length(1);
    expect(out.localStream!.getAudioTracks()[0]!.readyState).to.equal('live');

    const after = await listenAfterSwitch(inc.remoteStream!);
    expect(after.peak, 'Bob keeps hearing Alice').to.be.greaterThan(0.05);
    expect(isHeadset(after.dominantHz), `Bob hears the headset (${after.dominantHz} Hz)`).to.equal(true);
    expect(states, 'no state change: no renegotiation, no reconnect').to.deep.equal([]);
    expect([out.state, inc.state]).to.deep.equal(['established', 'established']);
    expect(alice.chosenDevices.audioInput).to.equal(HEADSET.deviceId);

    // Muted before a switch stays muted after it.
    out.mute();
    await alice.setAudioInputDevice('default');
    expect(out.localStream!.getAudioTracks()[0]!.enabled).to.equal(false);
    out.unmute();

    await alice.setAudioInputDevice(HEADSET.deviceId);
    out.hangup();
    const next = await establish(alice, bob);
    const heard = await listenTo(next.inc.remoteStream!);
    expect(isHeadset(heard.dominantHz), `the next call uses the headset (${heard.dominantHz} Hz)`).to.equal(true);
  });

  it('an unplugged microphone falls back to the default one with a devicechange event, instead of sending silence', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await establish(alice, bob);
    await alice.setAudioInputDevice(HEADSET.deviceId);
    const headsetTrack = out.localStream!.getAudioTracks()[0]!;

    // The device leaves the list (the browser's devicechange).
    plug(false);
    const change = nextEvent<DeviceChangeEvent>(alice, 'devicechange');
    announceDeviceChange();
    const e = await change;
    expect(e.fallback).to.deep.equal(['audioInput']);
    expect(e.devices.audioInput.map((d) => d.deviceId)).not.to.include(HEADSET.deviceId);
    expect(alice.chosenDevices.audioInput).to.equal(undefined);
    expect(headsetTrack.readyState).to.equal('ended');
    const heard = await listenAfterSwitch(inc.remoteStream!);
    expect(heard.peak, 'Bob still hears Alice').to.be.greaterThan(0.05);
    expect(isHeadset(heard.dominantHz), `the default microphone (${heard.dominantHz} Hz)`).to.equal(false);

    // The track ends by itself (as when the device is pulled before the list changes).
    plug(true);
    announceDeviceChange();
    await alice.setAudioInputDevice(HEADSET.deviceId);
    const track = out.localStream!.getAudioTracks()[0]!;
    plug(false);
    const ended = nextEvent<DeviceChangeEvent>(alice, 'devicechange');
    track.stop();
    track.dispatchEvent(new Event('ended'));
    expect((await ended).fallback).to.deep.equal(['audioInput']);
    const again = await listenAfterSwitch(inc.remoteStream!);
    expect(again.peak).to.be.greaterThan(0.05);
    expect(isHeadset(again.dominantHz)).to.equal(false);
    expect([out.state, inc.state]).to.deep.equal(['established', 'established']);
  });

  it('switching the camera mid-call: the other side sees the new camera and the old one is stopped', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await establish(alice, bob, true);
    const remote = await watchVideo(inc.remoteStream!);
    await waitFor(() => remote.videoWidth > 0, 5000, 'remote video');
    expect(isMagenta(centreColour(remote))).to.equal(false);
    const camera = out.localStream!.getVideoTracks()[0]!;
    await alice.setVideoInputDevice(DOC_CAMERA.deviceId);
    expect(camera.readyState, 'camera light off').to.equal('ended');
    await waitFor(() => isMagenta(centreColour(remote)), 5000, 'the document camera on Bob\'s side');
    expect(inc.state).to.equal('established');
  });
});

describe('screen sharing', () => {
  it('replaces the camera, the other side is told and sees the screen; the browser\'s "Stop sharing" brings the camera back', async () => {
    const { alice, bob } = await pair();
    const { out, inc } = await establish(alice, bob, true);
    const remote = await watchVideo(inc.remoteStream!);
    await waitFor(() => remote.videoWidth > 0, 5000, 'remote video');
    // WebRTC may start small and scale up, so the shapes tell camera (4:3) from screen (16:9), not the sizes.
    const shape = () => remote.videoWidth / remote.videoHeight;
    expect(shape()).to.be.closeTo(4 / 3, 0.05);
    const camera = out.localStream!.getVideoTracks()[0]!;

    const told = nextEvent<CallScreenShareChangeEvent>(inc, 'screensharechange');
    const local = nextEvent<CallScreenShareChangeEvent>(out, 'screensharechange');
    await out.startScreenShare();
    expect([(await local).sharing, (await local).by]).to.deep.equal([true, 'local']);
    expect(out.isScreenSharing).to.equal(true);
    expect(camera.readyState, 'the camera is released while sharing').to.equal('ended');
    const e = await told;
    expect([e.sharing, e.by]).to.deep.equal([true, 'remote']);
    expect(inc.isRemoteScreenSharing).to.equal(true);
    // A new frame source: Chromium's shared screen is 800×450 (16:9), its fake camera 640×480.
    await waitFor(() => Math.abs(shape() - 16 / 9) < 0.05, 8000, 'the screen on Bob\'s side');

    // The browser's own "Stop sharing" ends the track.
    const screen = out.localStream!.getVideoTracks()[0]!;
    const stopped = nextEvent<CallScreenShareChangeEvent>(inc, 'screensharechange');
    screen.stop();
    screen.dispatchEvent(new Event('ended'));
    expect((await stopped).sharing).to.equal(false);
    expect([out.isScreenSharing, inc.isRemoteScreenSharing]).to.deep.equal([false, false]);
    expect(out.localStream!.getVideoTracks()[0]!.readyState).to.equal('live');
    await waitFor(() => Math.abs(shape() - 4 / 3) < 0.05, 8000, 'the camera back on Bob\'s side');

    // And again, stopped from the app; the chosen camera comes back.
    await alice.setVideoInputDevice(DOC_CAMERA.deviceId);
    await out.startScreenShare();
    await waitFor(() => inc.isRemoteScreenSharing, 5000, 'sharing again');
    await out.stopScreenShare();
    await waitFor(() => !inc.isRemoteScreenSharing && isMagenta(centreColour(remote)), 8000, 'the chosen camera back');
    expect([out.state, inc.state]).to.deep.equal(['established', 'established']);
  });

  it('is a typed capability error on audio-only calls and before a call is established', async () => {
    const { alice, bob } = await pair();
    const { out } = await establish(alice, bob);
    const audioOnly = await rejection(out.startScreenShare());
    expect([audioOnly.domain, audioOnly.code]).to.deep.equal(['capability', 'screen-share-needs-video']);
    expect(out.isScreenSharing).to.equal(false);
    out.hangup();
    const ringing = alice.callUserVideo(bob.userId);
    const early = await rejection(ringing.startScreenShare());
    expect([early.domain, early.code]).to.deep.equal(['capability', 'invalid-state']);
    ringing.hangup();
  });
});
