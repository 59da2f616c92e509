// PSTN through a sipp "trunk": E.164 formatting, the trunk's digest credentials, the credits check before dialing
// (the server's store), the charge on the ledger after the call, and the free test number end to end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { storeAuthorizer } from '../../src/server/gateway/launcher.js';
import { TEST_NUMBER } from '../../src/server/gateway/test-number.js';
import { rms } from '../../src/server/gateway/media/dsp.js';
import type { SessionEnd } from '../../src/server/node-peer/index.js';
import { call, once, record, sleep, startEnv, startSipp, type Env } from './gateway-harness.js';

test('phone calls go to the trunk as sip:+number@trunk;user=phone with its credentials, and are charged', { timeout: 90_000 }, async () => {
  const sipp = await startSipp('auth-401.xml', { user: 'trunk-user', pass: 'trunk-pw' });
  let env: Env | undefined;
  try {
    env = await startEnv((server) => ({
      trunk: { host: '127.0.0.1', port: sipp.port, credentials: { username: 'trunk-user', password: 'trunk-pw' } },
      mayPlaceCall: storeAuthorizer(server.store), // the credits hook as `npm start` wires it
    }));
    const store = env.server.store;
    (await store.setRate('1', 7, 'North America'));
    const me = env.callerId;

    // No balance: refused before anything is sent.
    const poor = call(env, 'phone', '+14155550101', {}, me);
    const refused = await once<SessionEnd>(poor, 'end');
    assert.equal(refused.error?.code, 'insufficient-funds');
    assert.match(refused.error?.message ?? '', /insufficient funds/);
    assert.doesNotMatch(sipp.messages(), /INVITE/);

    (await store.topUp(me, 20));
    const s = call(env, 'phone', '+14155550101', {}, me);
    await once(s, 'answer');
    await sleep(1200);
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0, 'the trunk accepted the digest');
    const log = sipp.messages();
    assert.match(log, new RegExp(`^INVITE sip:\\+14155550101@127\\.0\\.0\\.1:${sipp.port};user=phone SIP/2\\.0`, 'm'));
    assert.match(log, /Authorization: Digest username="trunk-user"/);
    await sleep(500);
    const charges = (await store.history(me, { limit: 10, offset: 0 })).items.filter((e) => e.kind === 'charge');
    assert.equal(charges.length, 1, 'one charge on the ledger');
    assert.equal(charges[0].amount, -7, 'one started minute at 7 credits');
    assert.equal((await store.getAccount(me))?.balance, 13);
  } finally {
    sipp.stop();
    await env?.close();
  }
});

test('the test number plays the prompt and hangs up by itself, free of charge', { timeout: 60_000 }, async () => {
  const env = await startEnv();
  try {
    const store = env.server.store;
    (await store.setRate('46', 5, 'Sweden'));
    (await store.setRate(TEST_NUMBER.slice(1), 0, 'test number'));
    const me = env.callerId;
    const s = call(env, 'phone', TEST_NUMBER, {}, me);
    const heard = record(s);
    const t0 = Date.now();
    await once(s, 'answer');
    const end = await once<SessionEnd>(s, 'end', 15_000);
    const took = Date.now() - t0;
    assert.deepEqual(end, { cause: 'hungUp', by: 'remote' });
    assert.ok(took > 2000 && took < 10_000, `the call lasted ${took} ms (prompt 2.2 s)`);
    const samples = heard.samples();
    const frame = heard.rate() / 100;
    let loud = 0;
    for (let i = 0; i + frame <= samples.length; i += frame) if (rms(samples.subarray(i, i + frame)) > 0.02) loud++;
    assert.ok(loud > 50, `${loud} loud 10 ms frames (the prompt)`);
    await sleep(300);
    assert.equal((await store.getAccount(me))?.balance ?? 0, 0);
    assert.equal((await store.history(me, { limit: 10, offset: 0 })).items.filter((e) => e.kind === 'charge' && e.amount !== 0).length, 0);
    assert.equal(env.records.at(-1)?.isTestNumber, true);
  } finally {
    await env.close();
  }
});
