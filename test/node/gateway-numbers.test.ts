// One phone-number check on the server (src/server/phone-numbers.ts): impossible numbers are refused with a typed
// `argument` error, premium-rate numbers before dialing; the free test number keeps working. The gateway, the REST
// API and conference callouts all use it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CallingError } from '../../src/core/errors.js';
import { assertDialablePhoneNumber, blockedNumberTypes } from '../../src/server/phone-numbers.js';
import { call, once, startEnv, startSipp, type Env } from './gateway-harness.js';
import type { SessionEnd } from '../../src/server/node-peer/index.js';

describe('the validator', () => {
  test('impossible → argument invalid-phone-number; premium rate → api number-type-blocked; test number and ordinary numbers pass', () => {
    const code = (n: string, types?: Parameters<typeof assertDialablePhoneNumber>[1]) => {
      try {
        assertDialablePhoneNumber(n, types);
        return 'ok';
      } catch (e) {
        assert.ok(e instanceof CallingError);
        return `${e.domain}/${e.code}`;
      }
    };
    assert.equal(code('+4612'), 'argument/invalid-phone-number');
    assert.equal(code('+4420123456'), 'argument/invalid-phone-number', 'a London number one digit short');
    assert.equal(code('0701234567'), 'argument/invalid-phone-number');
    assert.equal(code('+19005550123'), 'api/number-type-blocked');
    assert.equal(code('+19005550123', []), 'ok', 'SIP_BLOCK_NUMBER_TYPES=none');
    assert.equal(code('+46701234567', blockedNumberTypes('MOBILE')), 'api/number-type-blocked');
    assert.equal(code('+46000000000'), 'ok');
    assert.equal(code('+14155550101'), 'ok');
    assert.throws(() => blockedNumberTypes('PREMIUM,BOGUS'), /not one of/);
  });
});

describe('the gateway', { concurrency: false }, () => {
  let env: Env;
  let sipp: Awaited<ReturnType<typeof startSipp>>;
  before(async () => {
    sipp = await startSipp('answer.xml');
    env = await startEnv({ trunk: { host: '127.0.0.1', port: sipp.port } });
  });
  after(async () => {
    sipp?.stop();
    await env?.close();
  });

  test('an impossible number and a premium-rate number are refused before dialing; the test number answers', async () => {
    const bad = await once<SessionEnd>(call(env, 'phone', '+4420123456'), 'end');
    assert.equal(bad.cause, 'failure');
    assert.equal(bad.error?.domain, 'argument');
    assert.equal(bad.error?.code, 'invalid-destination');
    const premium = await once<SessionEnd>(call(env, 'phone', '+19005550123'), 'end');
    assert.equal(premium.cause, 'failure');
    assert.equal(premium.error?.code, 'number-type-blocked');
    assert.equal(sipp.messages(), '', 'nothing reached the trunk');
    const test = call(env, 'phone', '+46000000000');
    await once(test, 'answer', 15_000);
    test.hangup('hungUp');
  });
});
