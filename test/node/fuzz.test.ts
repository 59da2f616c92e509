// Fuzzing with generated inputs (fast-check): every case ends in a typed error or a clean ignore — never an uncaught
// exception, never a value that should not reach the wire.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CallingError } from '../../src/core/errors.js';
import { parseControlMessage, PROTOCOL_VERSION } from '../../src/core/protocol.js';
import {
  assertConferenceId, assertPhoneNumber, assertSipAddress, assertUserId, E164, MAX_HEADERS_BYTES, validateHeaders,
} from '../../src/core/validation.js';
import { TokenError, verifyToken } from '../../src/server/auth/tokens.js';
import { startCallingServer } from '../../src/server/calling-server.js';

const RUNS = { numRuns: 1000 };
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Runs `fn`; a `CallingError` of domain `argument` is a clean refusal, anything else thrown fails the case. */
function accepted(fn: () => void): boolean {
  try {
    fn();
    return true;
  } catch (e) {
    assert.ok(e instanceof CallingError, `unexpected ${String(e)}`);
    assert.equal(e.domain, 'argument');
    assert.ok(e.message.length > 10);
    return false;
  }
}

// Strings biased towards the characters that matter: separators, controls, unicode, lookalikes.
const tricky = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: fc.constantFrom(...'aZ09-_.@:+ \r\n\t\u0000<>"\'/;=%*#xX'.split('')), maxLength: 80 }),
);

test('user ids: accepted ones are plain PeerJS-safe ids of at most 64 characters', () => {
  fc.assert(fc.property(fc.oneof(tricky, fc.anything()), (id) => {
    if (accepted(() => assertUserId(id))) {
      assert.equal(typeof id, 'string');
      assert.match(id as string, /^[A-Za-z0-9]+(?:[_-][A-Za-z0-9]+)*$/);
      assert.ok((id as string).length <= 64);
    }
  }), RUNS);
});

test('phone numbers: accepted ones are E.164 with a plus', () => {
  const digits = fc.string({ unit: fc.constantFrom(...'0123456789+ -()'.split('')), maxLength: 20 });
  fc.assert(fc.property(fc.oneof(tricky, digits, digits.map((d) => `+${d}`), fc.anything()), (n) => {
    if (accepted(() => assertPhoneNumber(n))) assert.match(n as string, E164);
  }), RUNS);
});

test('SIP addresses: accepted ones have no whitespace, controls or header-breaking characters', () => {
  const parts = fc.tuple(tricky, tricky).map(([u, d]) => `${u}@${d}`);
  fc.assert(fc.property(fc.oneof(tricky, parts, fc.anything()), (a) => {
    if (accepted(() => assertSipAddress(a))) {
      assert.ok(!CONTROL.test(a as string) && !/[\s<>"]/.test(a as string), JSON.stringify(a));
      assert.equal((a as string).split('@').length >= 2, true);
    }
  }), RUNS);
});

test('header sets: accepted ones are x- tokens with clean values within 1 KB', () => {
  const name = fc.oneof(tricky, tricky.map((s) => `x-${s}`), tricky.map((s) => `X-${s}`));
  const sets = fc.dictionary(name, fc.oneof(tricky, fc.anything()), { maxKeys: 8 });
  fc.assert(fc.property(fc.oneof(sets, fc.anything()), (h) => {
    let out: Record<string, string> | undefined;
    if (accepted(() => { out = validateHeaders(h); })) {
      let bytes = 0;
      for (const [k, v] of Object.entries(out!)) {
        assert.match(k, /^x-[A-Za-z0-9\-.!%*_+`'~]*$/i);
        assert.ok(!CONTROL.test(v));
        bytes += Buffer.byteLength(k + v);
      }
      assert.ok(bytes <= MAX_HEADERS_BYTES);
    }
  }), RUNS);
});

test('conference ids: accepted ones are 1-64 safe characters', () => {
  fc.assert(fc.property(fc.oneof(tricky, fc.anything()), (id) => {
    if (accepted(() => assertConferenceId(id))) assert.match(id as string, /^[A-Za-z0-9_.-]{1,64}$/);
  }), RUNS);
});

test('call-control messages from a malicious peer: dropped, or a valid message that parses the same again', () => {
  const field = fc.oneof(fc.anything(), tricky, fc.constantFrom('invite', 'ringing', 'answer', 'deny', 'cancel', 'hangup', 'media', 'dtmf', 'participants', 'hungUp', 'failure', 'user', 'sip'));
  const messageLike = fc.record({
    v: fc.oneof(fc.constant(PROTOCOL_VERSION), fc.anything()),
    type: field, callId: field, from: field, to: field, video: field, headers: field, callType: field,
    reason: field, error: field, audioMuted: field, videoPaused: field, digits: field, displayName: field, participants: field,
  }, { requiredKeys: ['v', 'type', 'callId'] });
  const huge = fc.constant({ v: PROTOCOL_VERSION, type: 'invite', callId: 'c', from: 'a'.repeat(100_000), to: 'b', video: false });
  fc.assert(fc.property(fc.oneof(messageLike, fc.anything(), huge), (m) => {
    const parsed = parseControlMessage(m);
    if (parsed) assert.deepEqual(parseControlMessage(JSON.parse(JSON.stringify(parsed))), parsed);
  }), RUNS);
});

test('tokens: anything presented is a typed refusal, never a crash', async () => {
  const secret = 'fuzz-secret-that-is-long-enough-for-hs256!';
  const jwtish = fc.tuple(fc.base64String(), fc.base64String(), fc.base64String()).map((p) => p.join('.'));
  await fc.assert(fc.asyncProperty(fc.oneof(tricky, jwtish, fc.constant(''), fc.constant(null)), async (token) => {
    await assert.rejects(verifyToken(secret, token as string, 'alice'), (e: unknown) => e instanceof TokenError);
  }), RUNS);
});

test('REST bodies: malformed input gets a 4xx naming the problem, never a 5xx or a stack trace', async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false, apiRateLimit: { perSecond: 100_000, burst: 100_000 } });
  try {
    const admin = server.apiKeys.find((k) => k.role === 'admin')!;
    const auth = `Basic ${Buffer.from(`${admin.key}:${admin.secret}`).toString('base64')}`;
    const targets = fc.constantFrom(
      ['POST', '/tokens'], ['POST', '/accounts/alice/top-ups'], ['PUT', '/rates/46'], ['POST', '/phone-checks'],
      ['POST', '/accounts/%00/top-ups'], ['PUT', '/rates/abc'],
    );
    const body = fc.oneof(fc.json(), fc.jsonValue().map((v) => JSON.stringify(v)), tricky);
    let cases = 0;
    await fc.assert(fc.asyncProperty(targets, body, async ([method, path], text) => {
      const res = await fetch(`${server.url}/api/v1${path}`, { method, body: text, headers: { authorization: auth, 'content-type': 'application/json' } });
      const reply = await res.text();
      cases++;
      assert.ok(res.status < 500, `${method} ${path} ${text} → ${res.status} ${reply}`);
      assert.ok(!/\bat .*\.(ts|js):\d+/.test(reply), 'no stack trace');
    }), RUNS);
    assert.ok(cases >= 1000);
  } finally {
    await server.close();
  }
});
