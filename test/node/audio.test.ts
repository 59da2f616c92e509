// Tone generation, without a browser: every built-in sound is decoded from its WAV data URI and analysed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AudioController, DTMF_FREQUENCIES, SOUND_NAMES, TONE_PLANS, TONE_REGIONS, toneRegionForLocales, type SoundName, type ToneRegion,
} from '../../src/core/audio/index.js';
import { builtInSoundUri, dataUriBytes, decodeWav, dtmfSprite, renderTone } from '../../src/core/audio/tone-tools.js';
import { CallingError } from '../../src/core/errors.js';
import { rms, spectrumPeaks } from '../browser/audio/analysis.js';

function decode(name: SoundName, region: ToneRegion) {
  const uri = builtInSoundUri(name, region);
  assert.match(uri, /^data:audio\/wav;base64,/);
  return decodeWav(dataUriBytes(uri));
}

for (const region of TONE_REGIONS) {
  for (const name of ['progressTone', 'busy', 'callWaiting'] as const) {
    test(`${region} ${name}: the E.180 frequencies and cadence`, () => {
      const spec = TONE_PLANS[region][name];
      const { samples, sampleRate } = decode(name, region);
      const total = spec.cadence.reduce((a, b) => a + b, 0);
      assert.equal(samples.length, Math.round(total * sampleRate), 'one cadence per loop');
      let t = 0;
      spec.cadence.forEach((seconds, i) => {
        // The middle of each period, clear of the 5 ms ramps.
        const start = Math.round((t + seconds * 0.1) * sampleRate);
        const length = Math.round(seconds * 0.8 * sampleRate);
        if (i % 2 === 0) {
          assert.ok(rms(samples, start, length) > 0.1, `on period ${i} sounds`);
          const peaks = spectrumPeaks(samples, sampleRate, { start, length, count: spec.frequencies.length + 1, from: 200, to: 1000 });
          const found = peaks.slice(0, spec.frequencies.length).map((p) => p.freq).sort((a, b) => a - b);
          assert.deepEqual(found.map((f) => Math.round(f / 5) * 5), [...spec.frequencies].map((f) => Math.round(f / 5) * 5), `peaks ${JSON.stringify(peaks)}`);
          // Nothing else: a third peak, if any, is at least 30 dB down.
          if (peaks[spec.frequencies.length]) assert.ok(peaks[spec.frequencies.length]!.amp < peaks[0]!.amp / 30);
        } else {
          assert.ok(rms(samples, start, length) < 1e-4, `off period ${i} is silent`);
        }
        t += seconds;
      });
    });
  }
}

test('the plans are the ones the issue names', () => {
  assert.deepEqual(TONE_PLANS.us.progressTone, { frequencies: [440, 480], cadence: [2, 4] });
  assert.deepEqual(TONE_PLANS.us.busy, { frequencies: [480, 620], cadence: [0.5, 0.5] });
  assert.deepEqual(TONE_PLANS.eu.progressTone, { frequencies: [425], cadence: [1, 4] });
  assert.deepEqual(TONE_PLANS.eu.busy, { frequencies: [425], cadence: [0.5, 0.5] });
  assert.deepEqual(TONE_PLANS.uk.progressTone, { frequencies: [400, 450], cadence: [0.4, 0.2, 0.4, 2] });
});

test('DTMF: every key is its Q.23 pair, 150 ms, in one sprite', () => {
  const { uri, sprite } = dtmfSprite();
  const { samples, sampleRate } = decodeWav(dataUriBytes(uri));
  assert.equal(Object.keys(sprite).length, 16);
  for (const [key, [low, high]] of Object.entries(DTMF_FREQUENCIES)) {
    const [startMs, ms] = sprite[key]!;
    assert.equal(ms, 150);
    const start = Math.round(((startMs + 10) / 1000) * sampleRate);
    const length = Math.round(0.13 * sampleRate);
    const peaks = spectrumPeaks(samples, sampleRate, { start, length, from: 600, to: 1700, step: 2, minSeparation: 40 });
    const found = peaks.map((p) => p.freq).sort((a, b) => a - b);
    assert.ok(Math.abs(found[0]! - low) <= 4 && Math.abs(found[1]! - high) <= 4, `${key}: ${found.join(', ')} vs ${low}, ${high}`);
    // The gap after a key is silent, so two presses never blur.
    assert.ok(rms(samples, Math.round(((startMs + 160) / 1000) * sampleRate), Math.round(0.03 * sampleRate)) < 1e-4);
  }
  assert.deepEqual(DTMF_FREQUENCIES['5'], [770, 1336]);
  assert.deepEqual(DTMF_FREQUENCIES['#'], [941, 1477]);
});

test('the ringtone is a chord of harmonics, not a bare sine, and never clips', () => {
  const { samples, sampleRate } = decode('ringtone', 'us');
  assert.equal(samples.length / sampleRate, 3);
  const peaks = spectrumPeaks(samples, sampleRate, { from: 300, to: 4000, step: 2, count: 8, start: 0, length: Math.round(1.2 * sampleRate), floor: 0.002 });
  assert.ok(peaks.length >= 6, `only ${peaks.length} peaks`);
  assert.ok(Math.max(...samples.map(Math.abs)) < 0.99);
  assert.ok(rms(samples, Math.round(2.6 * sampleRate), Math.round(0.3 * sampleRate)) < 0.01, 'a pause before it repeats');
});

test('every built-in sound exists for every region and is cached', () => {
  for (const region of TONE_REGIONS) {
    for (const name of SOUND_NAMES) assert.equal(builtInSoundUri(name, region), builtInSoundUri(name, region));
  }
  const { samples } = decode('callEnded', 'eu');
  assert.ok(samples.length > 0 && rms(samples) > 0.02);
});

test('the tone region follows the locale', () => {
  assert.equal(toneRegionForLocales(['en-US']), 'us');
  assert.equal(toneRegionForLocales(['en-CA']), 'us');
  assert.equal(toneRegionForLocales(['en']), 'us');
  assert.equal(toneRegionForLocales(['en-GB']), 'uk');
  assert.equal(toneRegionForLocales(['de-DE', 'en-US']), 'eu');
  assert.equal(toneRegionForLocales(['fr']), 'eu');
  assert.equal(toneRegionForLocales(['not a locale!', 'en-GB']), 'uk');
  assert.equal(toneRegionForLocales([]), 'us');
});

test('bad input is a CallingError of the argument domain', () => {
  const bad: Array<() => unknown> = [
    () => builtInSoundUri('ring' as SoundName, 'us'),
    () => builtInSoundUri('ringtone', 'fr' as ToneRegion),
    () => renderTone({ frequencies: [], cadence: [1] }),
    () => renderTone({ frequencies: [440], cadence: [0] }),
    () => new AudioController({ toneRegion: 'de' as ToneRegion }),
    () => new AudioController({ volume: 2 }),
    () => { new AudioController().volume = Number.NaN; },
    () => new AudioController().setSound('beep' as SoundName, '/x.mp3'),
    () => new AudioController().setSound('ringtone', ''),
    () => new AudioController().startPlayingSoundFile(''),
    () => new AudioController().playDtmf('x'),
    () => new AudioController().playDtmf('12'),
    () => { new AudioController().region = 'jp' as ToneRegion; },
  ];
  for (const fn of bad) {
    assert.throws(fn, (err: unknown) => err instanceof CallingError && err.domain === 'argument', fn.toString());
  }
});
