// The AudioController alone: what comes out of Howler's master output, measured, for every tone plan.
import { expect } from '@open-wc/testing';
import { AudioController, CallingError, DTMF_FREQUENCIES, TONE_PLANS, TONE_REGIONS } from '../../../src/core/index.js';
import { encodeWav, renderTone, wavDataUri } from '../../../src/core/audio/tone-tools.js';
import { Howler } from 'howler';
import { BAND_ON_DB, freqsOf, matches, SILENT, tapMaster, type Tap } from './tap.js';

const controllers: AudioController[] = [];
let tap: Tap | undefined;
function controller(options: ConstructorParameters<typeof AudioController>[0] = {}): AudioController {
  const c = new AudioController(options);
  controllers.push(c);
  return c;
}
afterEach(() => {
  for (const c of controllers.splice(0)) c.stopAll();
  tap?.close();
  tap = undefined;
});

async function waitUntil(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!predicate()) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Waits for the tone, then returns the peaks of the loudest of a few snapshots taken while it sounds. */
async function measure(t: Tap, count: number): Promise<number[]> {
  await t.until((x) => x.level() > 0.02, 8000, 'the tone');
  // Let the analyser window (~0.34 s) fill with the tone, then read.
  await new Promise((r) => setTimeout(r, 250));
  return freqsOf(t.peaks(count));
}

describe('AudioController tones (measured at Howler\'s master output)', () => {
  for (const region of TONE_REGIONS) {
    it(`${region}: the progress tone and the busy tone have the E.180 frequencies, and silence follows stop`, async () => {
      const audio = controller({ toneRegion: region });
      tap = await tapMaster(audio);
      expect(audio.locked).to.equal(false);

      const plan = TONE_PLANS[region];
      audio.playSound('progressTone', { loop: true });
      const progress = await measure(tap, plan.progressTone.frequencies.length);
      expect(matches(progress, plan.progressTone.frequencies), `progress ${progress} vs ${plan.progressTone.frequencies}`).to.equal(true);

      // Switching sounds replaces the tone: the progress frequencies are gone while busy plays.
      audio.playSound('busy', { loop: true });
      await tap.until((x) => x.band(plan.progressTone.frequencies.filter((f) => !plan.busy.frequencies.includes(f))) < BAND_ON_DB || plan.progressTone.frequencies.every((f) => plan.busy.frequencies.includes(f)), 3000, 'progress tone gone');
      const busy = await measure(tap, plan.busy.frequencies.length);
      expect(matches(busy, plan.busy.frequencies), `busy ${busy} vs ${plan.busy.frequencies}`).to.equal(true);

      audio.stopPlayingSoundFile();
      expect(audio.currentSound).to.equal(null);
      await tap.until((x) => x.level() < SILENT, 2000, 'silence');
      // Longer than the busy tone's off period, so this is not just a gap in its cadence.
      await tap.holds((x) => x.level() < SILENT, 1200, 'silence after stop');
    });
  }

  it('a US progress tone stays silent after stop for longer than its 4 s off period', async () => {
    const audio = controller({ toneRegion: 'us' });
    tap = await tapMaster(audio);
    audio.playSound('progressTone', { loop: true });
    await tap.until((x) => x.level() > 0.02);
    audio.stopPlayingSoundFile();
    await tap.until((x) => x.level() < SILENT, 2000, 'silence');
    await tap.holds((x) => x.level() < SILENT, 4500, 'silence after stop');
  });

  it('a DTMF key sounds its Q.23 pair', async () => {
    const audio = controller();
    tap = await tapMaster(audio, 4096);
    for (const key of ['5', '#']) {
      let best: number[] = [];
      let loudest = 0;
      audio.playDtmf(key);
      const end = performance.now() + 1500;
      while (performance.now() < end) {
        const level = tap.level();
        if (level > loudest) {
          loudest = level;
          best = freqsOf(tap.peaks(2, 60));
        }
        await new Promise((r) => setTimeout(r, 10));
      }
      // 4096-point FFT at 48 kHz: 11.7 Hz bins.
      expect(matches(best, DTMF_FREQUENCIES[key]!, 12), `${key}: ${best}`).to.equal(true);
    }
  });

  it('volume scales the output and mute silences every sound', async () => {
    const audio = controller({ toneRegion: 'eu' });
    tap = await tapMaster(audio);
    audio.playSound('busy', { loop: true });
    const loudness = async () => {
      // The analyser holds the last 0.34 s: let it forget the previous volume first.
      await new Promise((r) => setTimeout(r, 500));
      let peak = 0;
      const end = performance.now() + 1100; // one busy cadence
      while (performance.now() < end) {
        peak = Math.max(peak, tap!.level());
        await new Promise((r) => setTimeout(r, 20));
      }
      return peak;
    };
    await tap.until((x) => x.level() > 0.02);
    const full = await loudness();
    audio.volume = 0.25;
    const quarter = await loudness();
    expect(quarter / full).to.be.within(0.18, 0.32);
    audio.muted = true;
    expect(audio.muted).to.equal(true);
    await tap.until((x) => x.level() < SILENT, 2000, 'silence when muted');
    await tap.holds((x) => x.level() < SILENT, 1200, 'silence while muted');
    audio.muted = false;
    await tap.until((x) => x.level() > 0.005, 2000, 'sound after unmute');
  });

  it("the app's own sounds: setSound replaces a built-in, startPlayingSoundFile plays a file, Howls are reused", async () => {
    const tone = (f: number) => wavDataUri(encodeWav(renderTone({ frequencies: [f], cadence: [0.5, 0.1] }, 8000), 8000));
    const audio = controller({ sounds: { ringtone: tone(1000) } });
    tap = await tapMaster(audio);
    audio.playSound('ringtone', { loop: true });
    expect(matches(await measure(tap, 1), [1000])).to.equal(true);

    audio.startPlayingSoundFile(tone(700), { loop: true });
    await tap.until((x) => x.band([1000]) < BAND_ON_DB, 3000, 'the ringtone gone');
    expect(matches(await measure(tap, 1), [700])).to.equal(true);
    expect(audio.currentSound).to.match(/^data:audio\/wav/);
    audio.stopPlayingSoundFile();
    await tap.until((x) => x.level() < SILENT, 2000, 'silence');

    const howls = audio.howlCount;
    for (let i = 0; i < 20; i++) {
      audio.playSound(i % 2 ? 'busy' : 'progressTone', { loop: true });
      audio.startPlayingSoundFile(tone(700));
      audio.stopPlayingSoundFile();
    }
    expect(audio.howlCount).to.equal(howls);
  });

  it('the ringtone plays on the chosen output device, and returns to the default one', async () => {
    const mic = await navigator.mediaDevices.getUserMedia({ audio: true }); // device ids are hidden until then
    const outputs = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === 'audiooutput' && d.deviceId !== 'default');
    mic.getTracks().forEach((t) => t.stop());
    expect(outputs.length, 'Chromium\'s fake audio outputs').to.be.greaterThan(0);
    const device = outputs[0]!.deviceId;
    const audio = controller();
    tap = await tapMaster(audio);
    await audio.setRingtoneSinkId(device);
    expect(audio.ringtoneSinkId).to.equal(device);
    audio.playSound('ringtone', { loop: true });
    // Test-only look inside Howler: the ringtone's own media element, routed to the device.
    type Internal = { _html5: boolean; _sounds: Array<{ _node: HTMLAudioElement }> };
    const element = () => (Howler as unknown as { _howls: Internal[] })._howls.find((h) => h._html5)?._sounds[0]?._node;
    await waitUntil(() => element()?.sinkId === device && !element()!.paused && element()!.currentTime > 0.2, 5000, 'ringtone element playing on the device');
    // It bypasses the default output (Howler's Web Audio master) entirely.
    expect(tap.level()).to.be.below(SILENT);
    audio.stopPlayingSoundFile();
    await waitUntil(() => element()!.paused, 2000, 'ringtone element paused');

    await audio.setRingtoneSinkId('default');
    expect(audio.ringtoneSinkId).to.equal(null);
    audio.playSound('ringtone', { loop: true });
    await tap.until((x) => x.level() > 0.01, 5000, 'ringtone on the default output');
  });

  it('the tone region defaults to the browser locale', () => {
    expect(navigator.language).to.match(/^en(-US)?$/);
    expect(new AudioController().region).to.equal('us');
    expect(new AudioController({ toneRegion: 'uk' }).region).to.equal('uk');
  });

  it('bad input throws a CallingError before anything plays', async () => {
    const audio = controller();
    for (const fn of [
      () => audio.playDtmf('E'),
      () => audio.startPlayingSoundFile('  '),
      () => audio.setSound('ring' as 'ringtone', '/x.mp3'),
      () => { audio.volume = -1; },
    ]) {
      expect(fn).to.throw(CallingError);
    }
    let rejected: unknown;
    await audio.setRingtoneSinkId('no-such-device').catch((e: unknown) => { rejected = e; });
    expect(rejected).to.be.instanceOf(CallingError);
    expect((rejected as CallingError).domain).to.equal('argument');
    expect(audio.currentSound).to.equal(null);
  });
});
