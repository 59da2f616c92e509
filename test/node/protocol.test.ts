import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlMessage, parseControlMessage, PROTOCOL_VERSION } from '../../src/core/protocol.js';

test('valid messages round-trip through JSON', () => {
  const messages = [
    controlMessage('c1', { type: 'invite', from: 'alice', to: 'bob', callType: 'user', video: true, headers: { 'x-a': '1' }, displayName: 'Alice' }),
    controlMessage('c1', { type: 'ringing' }),
    controlMessage('c1', { type: 'answer', video: false }),
    controlMessage('c1', { type: 'deny' }),
    controlMessage('c1', { type: 'cancel', reason: 'noAnswer' }),
    controlMessage('c1', { type: 'hangup', reason: 'failure', error: { domain: 'sip', code: 'busy', message: 'Busy Here', sipStatus: 486 } }),
    controlMessage('c1', { type: 'media', audioMuted: true, videoPaused: false }),
  ];
  for (const m of messages) assert.deepEqual(parseControlMessage(JSON.parse(JSON.stringify(m))), m);
});

test('malformed, unknown and other-version messages are dropped, never thrown', () => {
  const bad: unknown[] = [
    null, undefined, 42, 'invite', [], {},
    { v: PROTOCOL_VERSION + 1, type: 'ringing', callId: 'c' },
    { v: PROTOCOL_VERSION, type: 'ringing' },
    { v: PROTOCOL_VERSION, type: 'ringing', callId: '' },
    { v: PROTOCOL_VERSION, type: 'ringing', callId: 'x'.repeat(500) },
    { v: PROTOCOL_VERSION, type: 'explode', callId: 'c' },
    { v: PROTOCOL_VERSION, type: 'answer', callId: 'c' },
    { v: PROTOCOL_VERSION, type: 'cancel', callId: 'c', reason: 'because' },
    { v: PROTOCOL_VERSION, type: 'hangup', callId: 'c', reason: 'hungUp', error: { domain: 'nope', code: 'x', message: 'y' } },
    { v: PROTOCOL_VERSION, type: 'invite', callId: 'c', from: 'a', to: 'b', video: 'yes' },
    { v: PROTOCOL_VERSION, type: 'invite', callId: 'c', from: 'a', to: 'b', video: false, callType: 'fax' },
    { v: PROTOCOL_VERSION, type: 'invite', callId: 'c', from: 'a', to: 'b', video: false, headers: { 'x-a': 5 } },
    { v: PROTOCOL_VERSION, type: 'invite', callId: 'c', from: 'a', to: 'b', video: false, headers: Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`x-${i}`, 'v'])) },
  ];
  for (const b of bad) assert.equal(parseControlMessage(b), undefined, JSON.stringify(b));
});

test('random junk never throws', () => {
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)];
  const values = [null, true, 0, -1, 1e308, '', 'ringing', 'invite', 'hangup', {}, [], PROTOCOL_VERSION, 'hungUp'];
  for (let i = 0; i < 5000; i++) {
    const o: Record<string, unknown> = { v: pick([PROTOCOL_VERSION, ...values]), callId: pick(['c', ...values]) };
    for (const k of ['type', 'from', 'to', 'video', 'reason', 'error', 'headers', 'callType', 'audioMuted', 'videoPaused']) {
      if (Math.random() < 0.5) o[k] = pick(values);
    }
    assert.doesNotThrow(() => parseControlMessage(o));
  }
});

test('screenshare: { sharing } round-trips; a missing or non-boolean sharing is dropped', () => {
  for (const sharing of [true, false]) {
    const m = controlMessage('c1', { type: 'screenshare', sharing });
    assert.deepEqual(parseControlMessage(JSON.parse(JSON.stringify(m))), m);
  }
  for (const sharing of [undefined, 'yes', 1, null]) {
    assert.equal(parseControlMessage({ v: PROTOCOL_VERSION, type: 'screenshare', callId: 'c', sharing }), undefined);
  }
  // Only the known fields come through.
  assert.deepEqual(parseControlMessage({ v: PROTOCOL_VERSION, type: 'screenshare', callId: 'c', sharing: true, sdp: 'x' }),
    { v: PROTOCOL_VERSION, type: 'screenshare', callId: 'c', sharing: true });
});
