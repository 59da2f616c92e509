// Hold on phone and SIP calls (issue #16), against sipp over UDP on 127.0.0.1: the Node caller plays the browser and
// sends the raw `hold` control message, as the SDK's `call.hold()` does. Our hold → re-INVITE a=sendonly (491 → sent
// again after the back-off), resume → a=sendrecv; the far end's hold → `hold` to the browser. RTP is counted both ways.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { rms } from '../../src/server/gateway/media/dsp.js';
import { NodePeer, type PeerSession, type SessionEnd } from '../../src/server/node-peer/index.js';
import { call, freeUdpPort, loopbackOnly, once, playTone, record, sleep, SIP_FIXTURES, startEnv, startSipp, type Env } from './gateway-harness.js';

let env: Env;
const logs: string[] = [];
before(async () => { env = await startEnv({ log: (m) => logs.push(m) }); });
after(async () => { await env?.close(); });

async function waitLog(re: RegExp, ms = 8000): Promise<void> {
  for (let waited = 0; waited < ms && !logs.some((l) => re.test(l)); waited += 50) await sleep(50);
  assert.ok(logs.some((l) => re.test(l)), `log ${re}; got:\n${logs.slice(-8).join('\n')}`);
}

/** RTP packets the gateway sent to / received from the far end over `ms`. */
async function rtpOver(ms: number): Promise<{ sent: number; received: number }> {
  const a = env.gateway.stats().rtp[0]!;
  const [sent0, received0] = [a.sent, a.received];
  await sleep(ms);
  const b = env.gateway.stats().rtp[0]!;
  return { sent: b.sent - sent0, received: b.received - received0 };
}

describe('gateway hold ↔ sipp', { concurrency: false, timeout: 120_000 }, () => {
  test('the browser holds: re-INVITE a=sendonly (a 491 is retried), no RTP either way; resume: a=sendrecv, RTP and audio back', async () => {
    logs.length = 0;
    const sipp = await startSipp('hold-ours.xml');
    try {
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
      await once(s, 'answer');
      const stop = playTone(s, 500);
      await sleep(800);
      const talking = await rtpOver(1000);
      console.log('RTP in 1 s before hold:', talking);
      assert.ok(talking.sent > 40 && talking.received > 40, `RTP flows before hold: ${JSON.stringify(talking)}`);

      s.send({ type: 'hold', onHold: true });
      await waitLog(/browser put the call on hold/);
      await sleep(300); // packets in flight and sipp's echo of them
      const heard = record(s);
      const held = await rtpOver(1000);
      console.log('RTP in 1 s on hold:', held);
      assert.deepEqual(held, { sent: 0, received: 0 }, 'nothing sent to the far end, and its echo of us stops');
      assert.ok(rms(heard.samples()) < 0.005, `the browser hears silence on hold (rms ${rms(heard.samples()).toFixed(4)})`);
      await waitLog(/hold re-INVITE got 491 Request Pending, sending it again/);
      await waitLog(/far end accepted our hold/, 6000);
      assert.equal((await rtpOver(500)).sent, 0, 'still nothing sent once the hold is accepted (far end recvonly)');

      s.send({ type: 'hold', onHold: false });
      await waitLog(/far end accepted our resume/);
      await sleep(300);
      const back = record(s);
      const resumed = await rtpOver(1000);
      console.log('RTP in 1 s after resume:', resumed);
      assert.ok(resumed.sent > 40 && resumed.received > 40, `RTP flows again: ${JSON.stringify(resumed)}`);
      assert.ok(rms(back.samples()) > 0.02, `the browser hears the echo again (rms ${rms(back.samples()).toFixed(3)})`);
      stop();
      assert.equal(s.ended, undefined, 'the call went on through hold and resume');
      s.hangup('hungUp');
      assert.equal(await sipp.done, 0, 'sipp saw sendonly (v2) twice, then sendrecv (v3), then our BYE');
    } finally {
      sipp.stop();
    }
  });

  test('the far end holds (re-INVITE a=sendonly) and resumes: the browser gets hold true / false; our RTP stops and resumes', async () => {
    logs.length = 0;
    const sipp = await startSipp('hold.xml');
    try {
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
      const holds: boolean[] = [];
      s.on('hold', (onHold) => holds.push(onHold));
      await once(s, 'answer');
      const stop = playTone(s, 500);
      while (holds.length < 1) await sleep(20);
      const held = await rtpOver(800);
      console.log('RTP in 0.8 s while the far end holds:', held);
      assert.equal(held.sent, 0, 'nothing sent to a far end that holds');
      while (holds.length < 2) await sleep(20);
      await sleep(200);
      const resumed = await rtpOver(600);
      console.log('RTP in 0.6 s after the far end resumed:', resumed);
      assert.ok(resumed.sent > 20, `sending again: ${JSON.stringify(resumed)}`);
      const end = await once<SessionEnd>(s, 'end');
      stop();
      assert.deepEqual(holds, [true, false]);
      assert.equal(end.cause, 'hungUp');
      assert.equal(await sipp.done, 0);
    } finally {
      sipp.stop();
    }
  });

  test('a refused hold (488): logged, no retry, the call goes on (still no RTP while the browser holds) until our BYE', async () => {
    logs.length = 0;
    const sipp = await startSipp('hold-refused.xml');
    try {
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
      await once(s, 'answer');
      s.send({ type: 'hold', onHold: true });
      await waitLog(/hold re-INVITE got 488 Not Acceptable Here; the call goes on as it was/);
      const held = await rtpOver(1000);
      assert.equal(held.sent, 0, 'the browser holds: nothing sent');
      assert.equal(s.ended, undefined, 'the call is still up');
      assert.equal(logs.filter((l) => /re-INVITE got/.test(l)).length, 1, 'not sent again');
      s.hangup('hungUp');
      assert.equal(await sipp.done, 0, 'sipp: 488 ACKed, then our BYE');
    } finally {
      sipp.stop();
    }
  });

  test('glare: the far end re-INVITEs while our hold re-INVITE is pending → we answer 491; ours then completes and the call goes on', async () => {
    logs.length = 0;
    const sipp = await startSipp('hold-glare.xml');
    try {
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
      const holds: boolean[] = [];
      s.on('hold', (onHold) => holds.push(onHold));
      await once(s, 'answer');
      s.send({ type: 'hold', onHold: true });
      await waitLog(/far end accepted our hold/);
      await sleep(200);
      assert.deepEqual(holds, [], 'the far end\'s refused offer did not reach the browser');
      assert.equal(s.ended, undefined);
      s.hangup('hungUp');
      assert.equal(await sipp.done, 0, 'sipp got 491 for its re-INVITE, 200 for ours was ACKed, then our BYE');
      assert.match(sipp.messages(), /SIP\/2\.0 491 Request Pending/);
    } finally {
      sipp.stop();
    }
  });
});

describe('hold on an incoming SIP call', { concurrency: false, timeout: 60_000 }, () => {
  test('sipp calls an app user who holds and resumes: re-INVITE a=sendonly then a=sendrecv; the caller\'s echo stops and comes back', async () => {
    logs.length = 0;
    const user = `held-${process.pid}`;
    const bob = await NodePeer.start({ id: user, server: env.server.url, token: () => env.server.mintToken(user), candidateFilter: loopbackOnly });
    try {
      const rang = new Promise<PeerSession>((resolve) => bob.once('invite', resolve));
      const gw = env.gateway.sipEndpoint;
      const sipp = spawn('sipp', [`${gw.host}:${gw.port}`, '-sf', `${SIP_FIXTURES}uac-hold.xml`, '-s', user, '-i', '127.0.0.1', '-p', String(await freeUdpPort()),
        '-mi', '127.0.0.1', '-mp', String(await freeUdpPort()), '-rtp_echo', '-m', '1', '-nostdin', '-timeout', '30s', '-timeout_error'], { stdio: 'ignore' });
      const done = new Promise<number | null>((r) => sipp.on('exit', (c) => r(c)));
      const inc = await rang;
      inc.ringing();
      const stop = playTone(inc, 440);
      inc.answer();
      await once(inc, 'media');
      await sleep(1000);
      const before = record(inc);
      await sleep(800);
      assert.ok(rms(before.samples()) > 0.02, `the user hears the caller's echo (rms ${rms(before.samples()).toFixed(3)})`);

      inc.send({ type: 'hold', onHold: true });
      await waitLog(/far end accepted our hold/);
      await sleep(300);
      const held = record(inc);
      await sleep(800);
      assert.ok(rms(held.samples()) < 0.005, `nothing reaches sipp, so no echo comes back (rms ${rms(held.samples()).toFixed(4)})`);

      inc.send({ type: 'hold', onHold: false });
      await waitLog(/far end accepted our resume/);
      await sleep(300);
      const back = record(inc);
      await sleep(800);
      assert.ok(rms(back.samples()) > 0.02, `the echo is back (rms ${rms(back.samples()).toFixed(3)})`);
      const ended = once<SessionEnd>(inc, 'end');
      assert.equal(await done, 0, 'sipp saw sendonly, then sendrecv, ACKed both, and its BYE was answered');
      assert.equal((await ended).cause, 'hungUp');
      stop();
    } finally {
      await bob.stop();
    }
  });
});
