// The `participants` control message: validated like every other message, malformed input dropped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { controlMessage, parseControlMessage } from '../../src/core/protocol.js';

test('participants messages round-trip (onHold optional, boolean) and malformed ones are dropped', () => {
  const m = controlMessage('c1', { type: 'participants', participants: [{ id: 'alice', displayName: 'Alice', muted: false, speaking: true, onHold: false }, { id: '+46701234567', muted: true, speaking: false, onHold: true }, { id: 'old-service', muted: false, speaking: false }] });
  assert.deepEqual(parseControlMessage(JSON.parse(JSON.stringify(m))), m);
  const bad: unknown[] = [
    { v: 1, callId: 'c1', type: 'participants' },
    { v: 1, callId: 'c1', type: 'participants', participants: {} },
    { v: 1, callId: 'c1', type: 'participants', participants: [{ id: '', muted: false, speaking: false }] },
    { v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: 'no', speaking: false }] },
    { v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: false }] },
    { v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: false, speaking: false, displayName: 'x'.repeat(129) }] },
    { v: 1, callId: 'c1', type: 'participants', participants: Array.from({ length: 257 }, (_, i) => ({ id: `u${i}`, muted: false, speaking: false })) },
    { v: 1, callId: 'c1', type: 'participants', participants: [null] },
    { v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: false, speaking: false, onHold: 'yes' }] },
    { v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: false, speaking: false, onHold: null }] },
  ];
  for (const b of bad) assert.equal(parseControlMessage(b), undefined, JSON.stringify(b).slice(0, 80));
  // Unknown extra fields are not passed through.
  const extra = parseControlMessage({ v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: false, speaking: false, evil: 1 }] });
  assert.deepEqual(extra, { v: 1, callId: 'c1', type: 'participants', participants: [{ id: 'a', muted: false, speaking: false }] });
});
