// The gateway against real sipp scenarios over UDP on 127.0.0.1: a Node WebRTC caller (as a browser would be)
// → gateway → sipp. Signalling mapping, audio through RTP echo, CANCEL, BYE both ways, failures, digest, loss.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { rms, toneShare } from '../../src/server/gateway/media/dsp.js';
import { parseRtp } from '../../src/server/gateway/media/rtp.js';
import type { SessionEnd } from '../../src/server/node-peer/index.js';
import { answerWithTone, call, echoOfTone, freeUdpPort, once, playTone, record, sippCalls, sleep, startEnv, startSipp, type Env } from './gateway-harness.js';

let env: Env;
before(async () => { env = await startEnv(); });
after(async () => { await env?.close(); });

describe('gateway ↔ sipp', { concurrency: false, timeout: 300_000 }, () => {
  test('INVITE → 100/180/200/ACK: ringing, answer, audio both ways (RTP echo), X- headers exact, our BYE', async () => {
    const sipp = await startSipp('answer.xml');
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`, { 'X-Customer-Id': 'c-42', 'x-trace': 'héllo wörld' });
    const events: string[] = [];
    s.on('ringing', () => events.push('ringing'));
    s.on('answer', () => events.push('answer'));
    const echo = await echoOfTone(s);
    assert.deepEqual(events, ['ringing', 'answer']);
    assert.ok(echo.level > 0.02, `echo level ${echo.level.toFixed(3)}`);
    assert.ok(echo.share > 0.3, `440 Hz share ${echo.share.toFixed(2)}`);
    assert.equal(echo.rate, 8000, 'the browser leg runs G.711 (PCMU): the caller decodes 8 kHz');
    const rtp = env.gateway.stats().rtp[0];
    assert.ok(rtp.sent > 50 && rtp.received > 40, `rtp sent ${rtp.sent} received ${rtp.received}`);

    s.hangup('hungUp');
    assert.equal(await sipp.done, 0, 'sipp scenario passed (BYE received)');
    const log = sipp.messages();
    assert.match(log, /^X-Customer-Id: c-42\r?$/m);
    assert.match(log, /^X-Trace: héllo wörld\r?$/m);
    assert.match(log, /^Content-Length: (\d+)/m);
    await sleep(100);
    const cdr = env.records.at(-1)!;
    assert.equal(cdr.callType, 'sip');
    assert.equal(cdr.endCause, 'hungUp');
    assert.equal(cdr.endedBy, 'caller');
    assert.ok(cdr.answeredAt);
  });

  test('BYE from the SIP side ends the browser call with hungUp', async () => {
    const sipp = await startSipp('remote-bye.xml');
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'answer');
    const end = await once<SessionEnd>(s, 'end');
    assert.equal(end.cause, 'hungUp');
    assert.equal(end.by, 'remote');
    assert.equal(await sipp.done, 0);
  });

  for (const [status, reason, cause, code] of [
    ['486', 'Busy Here', 'denied', 'busy'],
    ['404', 'Not Found', 'unavailable', 'not-found'],
    ['480', 'Temporarily Unavailable', 'noAnswer', 'no-answer'],
    ['408', 'Request Timeout', 'noAnswer', 'no-answer'],
    ['503', 'Service Unavailable', 'failure', 'sip-503'],
    ['603', 'Decline', 'denied', 'declined'],
  ] as const) {
    test(`${status} ${reason} → ${cause} with the SIP status in the error`, async () => {
      const sipp = await startSipp('reject.xml', {}, { fill: { status, reason } });
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
      const end = await once<SessionEnd>(s, 'end');
      assert.equal(end.cause, cause);
      assert.deepEqual(end.error, { domain: 'sip', code, message: `The SIP call failed: ${status} ${reason}`, sipStatus: Number(status), sipReason: reason });
      assert.equal(await sipp.done, 0, 'the final response was ACKed');
    });
  }

  test('the caller hangs up while ringing → CANCEL, 487 ACKed, browser sees canceled', async () => {
    const sipp = await startSipp('no-answer.xml');
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'ringing');
    s.hangup();
    assert.equal(await sipp.done, 0, 'CANCEL arrived, 487 was ACKed');
    assert.match(sipp.messages(), /CANCEL sip:bob@127\.0\.0\.1/);
    await sleep(100);
    assert.equal(env.records.at(-1)?.endCause, 'canceled');
  });

  test('no answer: the gateway ring timeout cancels and the browser sees noAnswer', async () => {
    const short = await startEnv({ ringTimeout: 1500 });
    try {
      const sipp = await startSipp('no-answer.xml');
      const s = call(short, 'sip', `bob@127.0.0.1:${sipp.port}`);
      const end = await once<SessionEnd>(s, 'end');
      assert.equal(end.cause, 'noAnswer');
      assert.equal(end.error?.domain, 'sip');
      assert.equal(await sipp.done, 0);
    } finally {
      await short.close();
    }
  });

  test('183 with SDP: early media is heard before the answer', async () => {
    const sipp = await startSipp('early-media.xml');
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    const heard = record(s);
    let answered = false;
    s.once('answer', () => { answered = true; });
    await once(s, 'ringing');
    const stop = playTone(s, 600);
    await sleep(1800);
    assert.equal(answered, false);
    const early = heard.samples();
    const tail = early.subarray(Math.floor(early.length / 2));
    assert.ok(rms(tail) > 0.02, `early media level ${rms(tail).toFixed(3)}`);
    assert.ok(toneShare(tail, heard.rate(), 600) > 0.3);
    await once(s, 'answer');
    stop();
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0);
  });

  test('401 digest challenge: the INVITE is retried with valid credentials (sipp verifyauth)', async () => {
    const authed = await startEnv({ credentials: { username: 'alice', password: 's3cret' } });
    try {
      const sipp = await startSipp('auth-401.xml', { user: 'alice', pass: 's3cret' });
      const s = call(authed, 'sip', `bob@127.0.0.1:${sipp.port}`);
      await once(s, 'answer');
      s.hangup('hungUp');
      assert.equal(await sipp.done, 0, 'sipp accepted the digest');
      assert.match(sipp.messages(), /Authorization: Digest username="alice", realm="sipp.test"/);
    } finally {
      await authed.close();
    }
  });

  test('401 with wrong credentials → failure, auth-failed… (sipp answers 403)', async () => {
    const authed = await startEnv({ credentials: { username: 'alice', password: 'wrong' } });
    try {
      const sipp = await startSipp('auth-401.xml', { user: 'alice', pass: 's3cret' });
      const s = call(authed, 'sip', `bob@127.0.0.1:${sipp.port}`);
      const end = await once<SessionEnd>(s, 'end');
      assert.equal(end.cause, 'failure');
      assert.equal(end.error?.sipStatus, 403);
    } finally {
      await authed.close();
    }
  });

  test('a lost INVITE is retransmitted (Timer A) and the call still connects', async () => {
    const lossy = await startEnv({ dropOutgoingSip: { match: /^INVITE /, count: 1 } });
    try {
      const sipp = await startSipp('answer.xml');
      const s = call(lossy, 'sip', `bob@127.0.0.1:${sipp.port}`);
      const t0 = Date.now();
      await once(s, 'answer');
      assert.ok(Date.now() - t0 >= 400, 'answered only after the retransmission');
      s.hangup('hungUp');
      assert.equal(await sipp.done, 0);
      assert.equal((sipp.messages().match(/^INVITE sip:/gm) ?? []).length, 1, 'sipp saw exactly one INVITE');
    } finally {
      await lossy.close();
    }
  });

  test('a re-INVITE from the SIP side is answered 200 and the call goes on', async () => {
    const sipp = await startSipp('reinvite.xml');
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'answer');
    await sleep(1200);
    assert.equal(s.ended, undefined, 'the call survived the re-INVITE');
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0);
  });

  test('DTMF: digits reach the SIP side as RFC 4733 telephone-events', async () => {
    // sipp handles signalling; the SDP points media at a UDP socket of ours that captures (and echoes) RTP.
    const mport = await freeUdpPort();
    const capture = createSocket('udp4');
    const events: Array<{ event: number; end: boolean; ts: number; marker: boolean }> = [];
    capture.on('message', (buf, rinfo) => {
      const p = parseRtp(buf);
      if (p?.payloadType === 101) events.push({ event: p.payload[0], end: (p.payload[1] & 0x80) !== 0, ts: p.timestamp, marker: p.marker });
      capture.send(buf, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => capture.bind(mport, '127.0.0.1', () => r()));
    try {
      const sipp = await startSipp('answer.xml', {}, { rtpEcho: false, mport });
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
      await once(s, 'answer');
      s.send({ type: 'dtmf', digits: '1*9#' });
      await sleep(1500);
      s.hangup('hungUp');
      assert.equal(await sipp.done, 0);
      const digits = [...new Map(events.filter((e) => e.end).map((e) => [e.ts, e.event])).values()];
      assert.deepEqual(digits, [1, 10, 9, 11]);
      assert.ok(events.filter((e) => e.marker).length === 4, 'one marker per event');
    } finally {
      capture.close();
    }
  });

  test('bad headers never reach the wire: a CR/LF smuggle is refused before any INVITE', async () => {
    const sipp = await startSipp('answer.xml');
    try {
      const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`, { 'x-evil': 'a\r\nInjected: yes' });
      const end = await once<SessionEnd>(s, 'end');
      assert.equal(end.cause, 'failure');
      assert.equal(end.error?.domain, 'argument');
      const s2 = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`, { 'Subject': 'not an x- header' });
      assert.equal((await once<SessionEnd>(s2, 'end')).error?.domain, 'argument');
      await sleep(700);
      assert.doesNotMatch(sipp.messages(), /INVITE|Injected/);
    } finally {
      sipp.stop();
      await sipp.done;
    }
  });
});

describe('gateway guards before dialing', { concurrency: false, timeout: 120_000 }, () => {
  test('the credits hook refuses (insufficient funds), prefixes and the per-user rate limit apply; no INVITE is sent', async () => {
    const asked: string[] = [];
    const guarded = await startEnv({
      maxCallsPerMinute: 2,
      allowedPrefixes: ['+46'],
      trunk: { host: '127.0.0.1', port: 9 },
      mayPlaceCall: (r) => {
        asked.push(`${r.userId} ${r.callType} ${r.to}`);
        return r.to === '+46700000001' ? { allowed: false, code: 'insufficient-funds', message: 'insufficient funds' } : { allowed: true };
      },
    });
    try {
      const sipp = await startSipp('answer.xml');
      const poor = call(guarded, 'phone', '+46700000001');
      const e1 = await once<SessionEnd>(poor, 'end');
      assert.equal(e1.cause, 'failure');
      assert.deepEqual(e1.error, { domain: 'api', code: 'insufficient-funds', message: 'insufficient funds' });
      const abroad = call(guarded, 'phone', '+14155550101');
      assert.equal((await once<SessionEnd>(abroad, 'end')).error?.code, 'destination-not-allowed');
      const third = call(guarded, 'sip', `bob@127.0.0.1:${sipp.port}`);
      assert.equal((await once<SessionEnd>(third, 'end')).error?.code, 'rate-limited');
      assert.deepEqual(asked, ['alice phone +46700000001']);
      // The test number is never rate limited and goes through the hook as free.
      const test = call(guarded, 'phone', '+46000000000');
      await once(test, 'answer');
      assert.equal((await once<SessionEnd>(test, 'end')).cause, 'hungUp');
      sipp.stop();
      await sipp.done;
      assert.doesNotMatch(sipp.messages(), /INVITE/);
    } finally {
      await guarded.close();
    }
  });
});

describe('incoming SIP calls ring app users', { concurrency: false, timeout: 60_000 }, () => {
  test('sipp calls sip:<user>@gateway: the user rings with the SIP caller as remote party, answers, sipp hangs up', async () => {
    const { NodePeer } = await import('../../src/server/node-peer/index.js');
    const user = `bob-${process.pid}`;
    const bob = await NodePeer.start({ id: user, server: env.server.url, token: () => env.server.mintToken(user), candidateFilter: (a) => a === '127.0.0.1' });
    try {
      const rang = new Promise<import('../../src/server/node-peer/index.js').PeerSession>((resolve) => bob.once('invite', resolve));
      const gw = env.gateway.sipEndpoint;
      const { done } = await sippCalls(`${gw.host}:${gw.port}`, user);
      const inc = await rang;
      assert.equal(inc.direction, 'incoming');
      assert.equal(inc.invite.callType, 'sip');
      assert.equal(inc.invite.from, 'sip:sipp@127.0.0.1');
      assert.equal(inc.invite.displayName, 'SIPp Caller');
      assert.equal(inc.invite.headers['x-origin'], 'sipp-uac');
      const { end, heardLevel } = await answerWithTone(inc);
      assert.equal(end.cause, 'hungUp');
      assert.equal(end.by, 'remote');
      assert.equal(await done, 0, 'sipp got 180, 200 and the 200 for its BYE');
      assert.ok(heardLevel > 0.02, 'the caller\'s echo reached the user');
    } finally {
      await bob.stop();
    }
  });
});
