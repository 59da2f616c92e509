import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  assertConferenceId, assertDtmf, assertPhoneNumber, assertSipAddress, assertUserId, validateHeaders,
} from '../../src/core/validation.js';
import { CallingError } from '../../src/core/errors.js';

function code(fn: () => unknown): string | undefined {
  try { fn(); } catch (e) { assert.ok(e instanceof CallingError); assert.equal(e.domain, 'argument'); return e.code; }
  return undefined;
}

test('user ids', () => {
  for (const ok of ['bob', 'alice-2', 'a_b-c', 'x'.repeat(64)]) assert.equal(code(() => assertUserId(ok)), undefined, ok);
  for (const bad of ['', 'x'.repeat(65), 'a b', 'bob\n', '-bob', 'bob--x', '<b>', 'calling-gateway', 'Calling-Conference', 7, null]) {
    assert.ok(code(() => assertUserId(bad)), String(bad));
  }
});

test('phone numbers are E.164 with a plus', () => {
  for (const ok of ['+14155550101', '+46000000000', '+12']) assert.equal(code(() => assertPhoneNumber(ok)), undefined, ok);
  for (const bad of ['14155550101', '+0123', '+1', '+1234567890123456', '+1 415 555', '+1415555010a', '', null]) {
    assert.equal(code(() => assertPhoneNumber(bad)), 'invalid-phone-number', String(bad));
  }
});

test('SIP addresses', () => {
  for (const ok of ['alice@pbx.example', 'Alice@SipProviderA.com', 'bob@127.0.0.1:5070', '1000@sip.example.org', 'bob@pbx.example;transport=tcp', 'bob@10.0.0.1:5070;transport=UDP']) {
    assert.equal(code(() => assertSipAddress(ok)), undefined, ok);
  }
  for (const bad of ['alice', '@pbx', 'alice@', 'a b@x.y', 'a@x..y', 'a@x.y:0', 'a@x.y:70000', 'a@-x.y', 'a\r\n@x.y', 'a@x.y>', 'a@x.y;transport=sctp', 'a@x.y;lr', 'a@x.y;transport=tcp;lr', '']) {
    assert.equal(code(() => assertSipAddress(bad)), 'invalid-sip-address', bad);
  }
});

test('custom headers: x- names, SIP tokens, no control characters, 1 KB', () => {
  assert.deepEqual(validateHeaders({ 'x-ticket': '42', 'X-Team': 'blue' }), { 'x-ticket': '42', 'X-Team': 'blue' });
  assert.deepEqual(validateHeaders(undefined), {});
  const cases: Array<[unknown, string]> = [
    [{ Subject: 'hi' }, 'invalid-header-name'], [{ 'x-a b': '1' }, 'invalid-header-name'], [{ 'x-a:b': '1' }, 'invalid-header-name'],
    [{ 'x-a': 'line\r\nVia: evil' }, 'invalid-header-value'], [{ 'x-a': 'tab\there' }, 'invalid-header-value'], [{ 'x-a': 5 }, 'invalid-header-value'],
    [{ 'x-big': 'v'.repeat(1100) }, 'headers-too-large'], [[], 'invalid-header'], ['x-a: 1', 'invalid-header'],
  ];
  for (const [bad, expected] of cases) assert.equal(code(() => validateHeaders(bad)), expected, JSON.stringify(bad));
});

test('conference ids and DTMF', () => {
  assert.equal(code(() => assertConferenceId('standup-42')), undefined);
  assert.equal(code(() => assertConferenceId('c'.repeat(64))), undefined);
  for (const bad of ['', 'c'.repeat(65), 'a b', 'a/b', '<x>']) assert.equal(code(() => assertConferenceId(bad)), 'invalid-conference-id', bad);
  assert.equal(code(() => assertDtmf('0123456789*#ABCD')), undefined);
  for (const bad of ['', 'E', '1 2', 'a']) assert.equal(code(() => assertDtmf(bad)), 'invalid-dtmf', bad);
});
