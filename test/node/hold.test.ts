// Hold (issue #16), the parts without media: quality warnings stay quiet while a call is held, and the maxCalls
// option is checked. Hold with real media is tested in Chromium (test/browser/hold).
import assert from 'node:assert/strict';
import test from 'node:test';
import { QualityWatch, type CallStats } from '../../src/core/quality.js';
import { maxCallsOf } from '../../src/core/client-options.js';
import { CallingError } from '../../src/core/errors.js';

/** Stats at `t` ms with no audio arriving and a silent microphone (what a held call looks like). */
function silent(t: number): CallStats {
  return { audioPacketsReceived: 100, audioPacketsLost: 0, audioBytesReceived: 0, bytesReceived: 0, bytesSent: 0, microphoneEnergy: 1, timestamp: t };
}

test('a held call raises no silence warnings; the same silence unheld raises both', () => {
  const held = new QualityWatch();
  const open = new QualityWatch();
  const raised: string[] = [];
  for (let t = 0; t <= 12_000; t += 2000) {
    assert.deepEqual(held.update(silent(t), false, true), []);
    for (const [name, on] of open.update(silent(t), false)) if (on) raised.push(name);
  }
  assert.deepEqual(raised.sort(), ['micNotWorking', 'noInboundAudio']);
  // Resumed and still silent: the warnings come once the threshold has passed since the last poll while held.
  assert.deepEqual(held.update(silent(14_000), false, false), []);
  assert.deepEqual(held.update(silent(19_000), false, false).map(([n]) => n).sort(), ['micNotWorking', 'noInboundAudio']);
});

test('maxCalls defaults to 2 and must be a whole number of at least 1', () => {
  assert.equal(maxCallsOf({ userId: 'a', server: 'http://x' }), 2);
  assert.equal(maxCallsOf({ userId: 'a', server: 'http://x', maxCalls: 1 }), 1);
  for (const maxCalls of [0, -1, 1.5, Number.NaN, '2' as unknown as number]) {
    assert.throws(() => maxCallsOf({ userId: 'a', server: 'http://x', maxCalls }), (e: unknown) => e instanceof CallingError && e.domain === 'argument');
  }
});
