// SIP over TCP (RFC 3261 §18): an INVITE over 1300 bytes (1 KB of X- headers) goes over TCP; a trunk configured with
// transport=tcp gets even small requests over TCP; a far end without TCP still gets the large INVITE over UDP; and a
// SIP caller reaching us over TCP rings the app user. sipp -t t1 plays the TCP peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rms } from '../../src/server/gateway/media/dsp.js';
import { gatewayConfigFromEnv } from '../../src/server/gateway/config.js';
import { assertSipAddress } from '../../src/core/validation.js';
import { NodePeer, type PeerSession } from '../../src/server/node-peer/index.js';
import { answerWithTone, call, loopbackOnly, once, playTone, record, sippCalls, sleep, startEnv, startSipp } from './gateway-harness.js';

/** 8 X- headers of 110 characters: 952 bytes, within the SDK's 1 KB, and the INVITE passes 1300 bytes. */
const bigHeaders = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`x-pad-${i}`, `${i}`.repeat(110)]));

test('an INVITE over 1300 bytes goes over TCP (§18.1.1): answered, audio both ways, BYE on the same connection', { timeout: 40_000 }, async () => {
  const env = await startEnv();
  const sipp = await startSipp('answer.xml', {}, { transport: 't1' });
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`, bigHeaders);
    const heard = record(s);
    await once(s, 'answer');
    const stop = playTone(s, 440);
    await sleep(1500);
    stop();
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0, 'sipp (TCP only) got INVITE, ACK and BYE');
    const log = sipp.messages();
    assert.match(log, /TCP message received \[(\d{4,})\] bytes :\r?\n\r?\nINVITE sip:bob@/);
    const size = Number(/TCP message received \[(\d+)\] bytes :\r?\n\r?\nINVITE/.exec(log)?.[1]);
    assert.ok(size > 1300, `INVITE of ${size} bytes`);
    assert.match(log, /^Via: SIP\/2\.0\/TCP /m);
    assert.match(log, /TCP message received \[\d+\] bytes :\r?\n\r?\nBYE /);
    assert.match(log, /^X-Pad-7: 7{110}\r?$/m);
    const got = heard.samples();
    assert.ok(rms(got.subarray(Math.floor(got.length / 2))) > 0.02, 'the echo came back');
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('a trunk configured with ;transport=tcp gets a small INVITE over TCP', { timeout: 40_000 }, async () => {
  const sipp = await startSipp('answer.xml', {}, { transport: 't1' });
  const { trunk } = gatewayConfigFromEnv({ SIP_TRUNK: `127.0.0.1:${sipp.port};transport=tcp` });
  assert.deepEqual(trunk, { host: '127.0.0.1', port: sipp.port, transport: 'tcp' });
  const env = await startEnv({ trunk: trunk! });
  try {
    const s = call(env, 'phone', '+14155550101');
    await once(s, 'answer');
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0);
    assert.match(sipp.messages(), /TCP message received \[\d{3}\] bytes :\r?\n\r?\nINVITE sip:\+14155550101@/);
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('callSip to user@host;transport=tcp (as the SDK accepts it) gets a small INVITE over TCP', { timeout: 40_000 }, async () => {
  const to = `bob@127.0.0.1:PORT;transport=tcp`;
  const sipp = await startSipp('answer.xml', {}, { transport: 't1' });
  assert.doesNotThrow(() => assertSipAddress(to.replace('PORT', String(sipp.port))));
  const env = await startEnv();
  try {
    const s = call(env, 'sip', to.replace('PORT', String(sipp.port)));
    await once(s, 'answer');
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0);
    assert.match(sipp.messages(), /TCP message received \[\d{3}\] bytes :\r?\n\r?\nINVITE sip:bob@127\.0\.0\.1:\d+;transport=tcp SIP\/2\.0/);
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('a large INVITE to a far end without TCP falls back to UDP (connection refused)', { timeout: 40_000 }, async () => {
  const env = await startEnv();
  const sipp = await startSipp('answer.xml'); // UDP only: its TCP port refuses
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`, bigHeaders);
    await once(s, 'answer');
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0);
    assert.match(sipp.messages(), /UDP message received \[(\d{4,})\] bytes :\r?\n\r?\nINVITE sip:bob@/);
    assert.match(sipp.messages(), /^Via: SIP\/2\.0\/UDP /m);
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('a SIP caller over TCP rings the app user; the call is answered and the caller hangs up', { timeout: 40_000 }, async () => {
  const env = await startEnv();
  const user = `tcpbob-${process.pid}`;
  const bob = await NodePeer.start({ id: user, server: env.server.url, token: () => env.server.mintToken(user), candidateFilter: loopbackOnly });
  try {
    const rang = new Promise<PeerSession>((resolve) => bob.once('invite', resolve));
    const gw = env.gateway.sipEndpoint;
    const { done } = await sippCalls(`${gw.host}:${gw.port}`, user, ['-t', 't1']);
    const inc = await rang;
    assert.equal(inc.invite.from, 'sip:sipp@127.0.0.1');
    assert.equal(inc.invite.headers['x-origin'], 'sipp-uac');
    assert.ok(env.gateway.stack.tcpConnections >= 1, 'it came over TCP');
    const { end, heardLevel } = await answerWithTone(inc);
    assert.equal(end.cause, 'hungUp');
    assert.equal(await done, 0, 'sipp got 180 and 200 on its connection, and the 200 for its BYE');
    assert.ok(heardLevel > 0.02, 'the caller\'s echo reached the user');
  } finally {
    await bob.stop();
    await env.close();
  }
});
