// The conference mixer's arithmetic: mix-minus, limiter, buffering, resampling, speaking detection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_SAMPLES, MIX_RATE, Mixer, frameDb, resample, toneAmplitude } from '../../src/server/conference/mixer.js';

function sine(freq: number, amp: number, n: number, offset = 0, rate = MIX_RATE): Int16Array {
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * freq * (offset + i)) / rate));
  return out;
}

/** Runs `ticks` ticks, each fed one 10 ms frame per source, and concatenates what every participant receives. */
function run(mixer: Mixer, sources: Record<string, { freq: number; amp: number } | null>, ticks: number): Record<string, Int16Array> {
  const got: Record<string, Int16Array> = {};
  for (const id of Object.keys(sources)) got[id] = new Int16Array(ticks * FRAME_SAMPLES);
  for (let t = 0; t < ticks; t++) {
    for (const [id, s] of Object.entries(sources)) if (s) mixer.push(id, sine(s.freq, s.amp, FRAME_SAMPLES, t * FRAME_SAMPLES), MIX_RATE);
    const out = mixer.tick();
    for (const [id, frame] of out) got[id]?.set(frame, t * FRAME_SAMPLES);
  }
  return got;
}

test('mix-minus: each participant hears every other tone at its level and not its own', () => {
  const m = new Mixer();
  const tones = { a: { freq: 400, amp: 3000 }, b: { freq: 550, amp: 3000 }, c: { freq: 700, amp: 3000 } };
  for (const id of Object.keys(tones)) m.add(id);
  const got = run(m, tones, 100);
  for (const [id, samples] of Object.entries(got)) {
    const tail = samples.subarray(10 * FRAME_SAMPLES);
    for (const [other, t] of Object.entries(tones)) {
      const amp = toneAmplitude(tail, MIX_RATE, t.freq);
      if (other === id) assert.ok(amp < 1, `${id} must not hear itself (${amp.toFixed(2)})`);
      else assert.ok(Math.abs(amp - 3000) < 60, `${id} hears ${other} at ${amp.toFixed(0)}, want ≈ 3000`);
    }
  }
});

test('a lone participant hears silence; a muted participant drops out of the others\' mix', () => {
  const m = new Mixer();
  m.add('a');
  const alone = run(m, { a: { freq: 400, amp: 8000 } }, 20);
  assert.ok(alone.a!.every((v) => v === 0));
  m.add('b');
  m.add('c');
  m.setMuted('b', true);
  const got = run(m, { a: { freq: 400, amp: 3000 }, b: { freq: 550, amp: 3000 }, c: { freq: 700, amp: 3000 } }, 60);
  const tailC = got.c!.subarray(10 * FRAME_SAMPLES);
  assert.ok(toneAmplitude(tailC, MIX_RATE, 550) < 1, 'muted b is not heard by c');
  assert.ok(toneAmplitude(tailC, MIX_RATE, 400) > 2900, 'c still hears a');
  assert.ok(toneAmplitude(got.b!.subarray(10 * FRAME_SAMPLES), MIX_RATE, 400) > 2900, 'muted b still hears a');
});

test('limiter: loud inputs summed never wrap around and stay at the threshold; quiet mixes pass unchanged', () => {
  const m = new Mixer({ limiterThreshold: 0.9 });
  const ids = ['a', 'b', 'c', 'd', 'e'];
  for (const id of ids) m.add(id);
  // Four full-scale, in-phase sines at one frequency sum to 4× full scale: naïve Int16 conversion would wrap.
  const loud = Object.fromEntries(ids.map((id) => [id, { freq: 300, amp: 32000 }]));
  const got = run(m, loud, 50);
  const out = got.a!.subarray(3 * FRAME_SAMPLES);
  let peak = 0;
  for (const v of out) peak = Math.max(peak, Math.abs(v));
  assert.ok(peak <= Math.ceil(0.9 * 32767), `peak ${peak} within the threshold`);
  assert.ok(peak > 0.85 * 32767, `peak ${peak} is limited, not crushed`);
  // The output is still a clean 300 Hz sine (no wrap-around distortion): nearly all power at 300 Hz.
  const amp = toneAmplitude(out, MIX_RATE, 300);
  assert.ok(amp > 0.85 * 32767, `300 Hz amplitude ${amp.toFixed(0)}`);
  // After the loud part, quiet audio recovers to unity gain.
  const after = run(m, Object.fromEntries(ids.map((id) => [id, { freq: 300, amp: 1000 }])), 400);
  const rec = toneAmplitude(after.a!.subarray(300 * FRAME_SAMPLES), MIX_RATE, 300);
  assert.ok(Math.abs(rec - 4000) < 80, `gain recovered: ${rec.toFixed(0)} ≈ 4000`);
});

test('input buffering: playout waits for 20 ms, the queue is capped at 60 ms, an underrun re-primes', () => {
  const m = new Mixer({ minBufferFrames: 2, maxBufferFrames: 6, burstFrames: 0 });
  m.add('a');
  m.add('b');
  m.push('a', sine(400, 5000, FRAME_SAMPLES), MIX_RATE);
  assert.ok(m.tick().get('b')!.every((v) => v === 0), 'one frame queued: not primed yet');
  m.push('a', sine(400, 5000, FRAME_SAMPLES), MIX_RATE);
  assert.ok(m.tick().get('b')!.some((v) => v !== 0), 'two frames: plays');
  for (let i = 0; i < 20; i++) m.push('a', sine(400, 5000, FRAME_SAMPLES), MIX_RATE);
  assert.equal(m.stats('a')!.queued, 6);
  assert.ok(m.stats('a')!.dropped >= 14);
  for (let i = 0; i < 6; i++) m.tick();
  m.tick();
  assert.equal(m.stats('a')!.underruns, 1);
  // Partial frames accumulate: 3 × 160 samples make one 480-sample frame.
  for (let i = 0; i < 6; i++) m.push('a', sine(400, 5000, 160, i * 160), MIX_RATE);
  assert.equal(m.stats('a')!.queued, 2);
});

test('a stalled clock catching up loses nothing: frames that arrived meanwhile wait for the catch-up ticks', () => {
  const m = new Mixer({ minBufferFrames: 2, maxBufferFrames: 6, burstFrames: 25 });
  m.add('a');
  m.add('b');
  const got = new Int16Array(60 * FRAME_SAMPLES);
  let sent = 0, heard = 0;
  const feed = (n: number) => { for (let i = 0; i < n; i++, sent++) m.push('a', sine(400, 5000, FRAME_SAMPLES, sent * FRAME_SAMPLES), MIX_RATE); };
  const hear = (n: number) => { for (let i = 0; i < n; i++, heard++) got.set(m.tick(i === n - 1).get('b')!, heard * FRAME_SAMPLES); };
  feed(2);
  for (let t = 0; t < 10; t++) { feed(1); hear(1); }
  // A 200 ms stall: 20 frames arrive at once, then the clock runs 20 ticks back to back.
  feed(20);
  assert.equal(m.stats('a')!.queued, 22);
  hear(20);
  for (let t = 0; t < 10; t++) { feed(1); hear(1); }
  assert.deepEqual({ underruns: m.stats('a')!.underruns, dropped: m.stats('a')!.dropped }, { underruns: 0, dropped: 0 });
  // b heard a's tone without a gap: every sample, in order.
  for (let i = 0; i < heard * FRAME_SAMPLES; i++) {
    if (got[i]! !== Math.round(5000 * Math.sin((2 * Math.PI * 400 * i) / MIX_RATE))) assert.fail(`sample ${i} differs`);
  }
  // A longer backlog than the catch-up is trimmed back to 60 ms at the end of the burst.
  feed(30);
  hear(1);
  assert.equal(m.stats('a')!.queued, 6);
  assert.ok(m.stats('a')!.dropped > 0);
});

test('outputs are reused between ticks (no allocation per frame) and hold the current tick', () => {
  const m = new Mixer();
  m.add('a');
  m.add('b');
  const first = m.tick().get('b');
  assert.equal(m.tick().get('b'), first);
});

test('resampling: a 16 kHz tone arrives at 48 kHz with its frequency and level', () => {
  const m = new Mixer();
  m.add('a');
  m.add('b');
  const got = new Int16Array(50 * FRAME_SAMPLES);
  for (let t = 0; t < 50; t++) {
    m.push('a', sine(1000, 6000, 160, t * 160, 16_000), 16_000);
    got.set(m.tick().get('b')!, t * FRAME_SAMPLES);
  }
  const tail = got.subarray(5 * FRAME_SAMPLES);
  assert.ok(Math.abs(toneAmplitude(tail, MIX_RATE, 1000) - 6000) < 300);
  assert.equal(resample(new Int16Array(80), 8000).length, 480);
});

test('speaking follows frame energy with hysteresis, and never while muted', () => {
  const m = new Mixer({ speakingOnFrames: 3, speakingHangFrames: 10 });
  const flips: string[] = [];
  m.onSpeaking = (id, s) => flips.push(`${id}:${s}`);
  m.add('a');
  m.add('b');
  run(m, { a: { freq: 400, amp: 3000 }, b: { freq: 550, amp: 30 } }, 10); // a ≈ −23 dBFS, b ≈ −63 dBFS
  assert.equal(m.isSpeaking('a'), true);
  assert.equal(m.isSpeaking('b'), false);
  assert.ok(m.levelDb('a') > -26 && m.levelDb('a') < -20, `a level ${m.levelDb('a')}`);
  run(m, { a: null, b: null }, 5); // short pause: still speaking (hang time)
  assert.equal(m.isSpeaking('a'), true);
  run(m, { a: null, b: null }, 10);
  assert.equal(m.isSpeaking('a'), false);
  run(m, { a: { freq: 400, amp: 3000 }, b: null }, 10);
  m.setMuted('a', true);
  assert.equal(m.isSpeaking('a'), false);
  assert.deepEqual(flips, ['a:true', 'a:false', 'a:true', 'a:false']);
  assert.equal(frameDb(new Int16Array(480)), -Infinity);
  assert.ok(Math.abs(frameDb(sine(400, 32767, 480)) - -3.01) < 0.1);
});

test('shared mode: everyone outside the sum gets the one shared frame (the same array), talkers a mix-minus of their own', () => {
  const m = new Mixer({ sampleRate: 16_000 });
  for (const id of ['a', 'b', 'l1', 'l2', 'l3']) m.add(id);
  const got: Record<string, Int16Array> = {};
  for (let t = 0; t < 40; t++) {
    m.push('a', sine(400, 3000, 160, t * 160, 16_000), 16_000);
    m.push('b', sine(550, 3000, 160, t * 160, 16_000), 16_000);
    for (const l of ['l1', 'l2', 'l3']) m.push(l, new Int16Array(160), 16_000); // silence: below the gate
    const out = m.tick();
    if (t === 39) for (const [id, f] of out) got[id] = f;
  }
  assert.equal(m.frameSamples, 160);
  assert.equal(got.l1, m.shared);
  assert.equal(got.l2, m.shared);
  assert.equal(got.l3, m.shared);
  assert.notEqual(got.a, m.shared);
  assert.notEqual(got.b, m.shared);
  assert.deepEqual([m.isInSum('a'), m.isInSum('b'), m.isInSum('l1')], [true, true, false]);
  // 16 kHz in, 16 kHz out, no resampling: the listeners' frame is exactly a + b, a's is exactly b and b's exactly a
  // (the frame pushed one tick before: playout starts with two queued).
  const t = 38 * 160;
  const a = sine(400, 3000, 160, t, 16_000), b = sine(550, 3000, 160, t, 16_000);
  assert.deepEqual([...got.l1!], [...a].map((v, i) => v + b[i]!));
  assert.deepEqual([...got.a!], [...b]);
  assert.deepEqual([...got.b!], [...a]);
});

test('shared mode: a talker who stops and starts never hears itself, and the others hear it without a glitch (sample-exact)', () => {
  const m = new Mixer({ sampleRate: 16_000, gateHangFrames: 20 });
  for (const id of ['a', 'b', 'l']) m.add(id);
  // b talks in bursts: 50 ticks on, 10 off (a pause shorter than the gate's hang: b stays in the sum), 50 on, 40 off
  // (longer: b leaves the sum), 50 on, and so on. a talks all the time, l never.
  const bTalks = (t: number) => [[0, 50], [60, 110], [150, 200], [240, 260], [300, 400]].some(([s, e]) => t >= s! && t < e!);
  const inSum: boolean[] = [];
  for (let t = 0; t < 400; t++) {
    m.push('a', sine(400, 3000, 160, t * 160, 16_000), 16_000);
    m.push('b', bTalks(t) ? sine(550, 3000, 160, t * 160, 16_000) : new Int16Array(160), 16_000);
    m.push('l', new Int16Array(160), 16_000);
    const out = m.tick();
    inSum.push(m.isInSum('b'));
    if (t < 1) continue; // priming (two frames)
    // What each one hears is the frame pushed one tick before.
    const s = t - 1;
    const a = sine(400, 3000, 160, s * 160, 16_000);
    const b = bTalks(s) ? sine(550, 3000, 160, s * 160, 16_000) : new Int16Array(160);
    const bOut = out.get('b')!, lOut = out.get('l')!, aOut = out.get('a')!;
    for (let i = 0; i < 160; i++) {
      if (bOut[i] !== a[i]) assert.fail(`tick ${t}: b hears something besides a (sample ${i}: ${bOut[i]} vs ${a[i]}; b in the sum: ${m.isInSum('b')})`);
      if (lOut[i] !== a[i]! + b[i]!) assert.fail(`tick ${t}: the listener's mix is not a + b (sample ${i})`);
      if (aOut[i] !== b[i]) assert.fail(`tick ${t}: a hears something besides b (sample ${i})`);
    }
  }
  // The gate's hysteresis: the 10-tick pause kept b in the sum, the 40-tick one took it out, and each burst put it back.
  assert.equal(inSum[55], true, 'a short pause keeps b in the sum');
  assert.equal(inSum[135], false, 'a long pause takes b out');
  assert.equal(inSum[152], true, 'b is back on its first loud frame');
  const flips = inSum.filter((v, i) => i > 0 && v !== inSum[i - 1]).length;
  // In at 0, 150, 240 and 300; out after the three long pauses: nowhere else (no chattering).
  assert.equal(flips, 7, `b's membership flips only at its bursts and long pauses (${flips})`);
});

test('per-leg mode (the previous mixer): everyone gets a mix-minus of their own, at 48 kHz', () => {
  const m = new Mixer({ mode: 'per-leg' });
  for (const id of ['a', 'b', 'l']) m.add(id);
  let out = m.tick();
  for (let t = 0; t < 5; t++) {
    m.push('a', sine(400, 3000, FRAME_SAMPLES, t * FRAME_SAMPLES), MIX_RATE);
    m.push('b', sine(550, 3000, FRAME_SAMPLES, t * FRAME_SAMPLES), MIX_RATE);
    m.push('l', new Int16Array(FRAME_SAMPLES), MIX_RATE);
    out = m.tick();
  }
  assert.equal(m.sampleRate, MIX_RATE);
  assert.ok(m.isInSum('l'), 'a silent participant is summed too');
  assert.equal(new Set([out.get('a'), out.get('b'), out.get('l'), m.shared]).size, 4);
});

test('setRate: an Opus leg joining a G.722 room moves the mix to 48 kHz; queues re-prime; bad rates and modes are refused', () => {
  const m = new Mixer({ sampleRate: 16_000 });
  m.add('a');
  m.add('b');
  for (let t = 0; t < 3; t++) m.push('a', sine(400, 3000, 160, t * 160, 16_000), 16_000);
  assert.equal(m.stats('a')!.queued, 3);
  m.setRate(48_000);
  assert.equal(m.stats('a')!.queued, 0);
  assert.equal(m.frameSamples, 480);
  const got = new Int16Array(30 * 480);
  for (let t = 0; t < 30; t++) {
    m.push('a', sine(1000, 6000, 160, t * 160, 16_000), 16_000); // still a 16 kHz leg: resampled now
    got.set(m.tick().get('b')!, t * 480);
  }
  assert.ok(Math.abs(toneAmplitude(got.subarray(5 * 480), MIX_RATE, 1000) - 6000) < 300);
  assert.throws(() => m.setRate(44_123), RangeError);
  assert.throws(() => new Mixer({ mode: 'fancy' as never }), RangeError);
});
