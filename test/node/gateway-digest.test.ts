// Digest authentication as carriers do it today (RFC 8760): SHA-256 preferred over MD5 when both are offered,
// stale nonces retried once, BYE challenged too, and CANCEL after a 407 going with the authenticated INVITE.
// sipp plays the carrier; every Authorization value it received is recomputed here with the RFC's arithmetic.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { authorize, parseChallenge, pickChallenge } from '../../src/server/gateway/sip/digest.js';
import type { SipResponse } from '../../src/server/gateway/sip/message.js';
import { Authenticator } from '../../src/server/gateway/sip/ua.js';
import { call, once, sleep, startEnv, startSipp } from './gateway-harness.js';

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

/** The SIP messages in a sipp -trace_msg log (their text, starting at the first line). */
function messages(log: string): string[] {
  return log.split(/\r?\n(?=(?:[A-Z]+ sip:\S+ SIP\/2\.0|SIP\/2\.0 \d{3} )\r?$)/m).filter((m) => /^([A-Z]+ sip:|SIP\/2\.0)/.test(m));
}

function fields(header: string): Record<string, string> {
  return Object.fromEntries([...header.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]+))/g)].map((m) => [m[1], m[2] ?? m[3]]));
}

/** RFC 8760 §2 / RFC 7616 §3.4.1 response for qop=auth, written out independently of digest.ts. */
function expectedResponse(f: Record<string, string>, method: string, password: string): string {
  const ha1 = sha256(`${f.username}:${f.realm}:${password}`);
  const ha2 = sha256(`${method}:${f.uri}`);
  return sha256(`${ha1}:${f.nonce}:${f.nc}:${f.cnonce}:${f.qop}:${ha2}`);
}

test('RFC 7616 §3.9.1 SHA-256 example and the strongest-challenge choice', () => {
  const ch = parseChallenge('Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')!;
  const value = authorize(ch, 'GET', '/dir/index.html', 'Mufasa', 'Circle of Life', 1, 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ');
  assert.match(value, /response="753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"/);
  assert.match(value, /algorithm=SHA-256/);
  const md5 = 'Digest realm="r", nonce="n1", algorithm=MD5';
  const sha = 'Digest realm="r", nonce="n1", algorithm=SHA-256';
  const sha512 = 'Digest realm="r", nonce="n1", algorithm=SHA-512-256';
  assert.equal(pickChallenge([md5, sha])?.algorithm, 'SHA-256');
  assert.equal(pickChallenge([sha, md5, sha512])?.algorithm, 'SHA-512-256');
  assert.equal(pickChallenge([`${md5}, ${sha}`])?.algorithm, 'SHA-256', 'two challenges in one header value');
  assert.equal(pickChallenge(['Digest realm="r", nonce="n", algorithm=SHA-999', md5])?.algorithm, 'MD5', 'unknown algorithms are skipped');
  assert.equal(pickChallenge(['Digest realm="r", nonce="n", algorithm=SHA-999']), undefined);
  assert.equal(pickChallenge(['Basic realm="r"']), undefined);
});

test('a carrier offering MD5 and SHA-256 gets SHA-256; a stale nonce is retried once; the BYE is challenged and answered', { timeout: 60_000 }, async () => {
  const env = await startEnv({ credentials: { username: 'alice', password: 's3cret' } });
  const sipp = await startSipp('auth-sha256.xml');
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'answer');
    await sleep(300);
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0, 'sipp saw three INVITEs and two BYEs, as scripted');
    const sent = messages(sipp.messages()).filter((m) => /^(INVITE|BYE) /.test(m));
    assert.deepEqual(sent.map((m) => m.split(' ')[0]), ['INVITE', 'INVITE', 'INVITE', 'BYE', 'BYE']);
    assert.doesNotMatch(sent[0], /Authorization:/, 'no credentials before the challenge');
    assert.doesNotMatch(sent[3], /Authorization:/, 'none on the BYE before its challenge');
    const auth = [sent[1], sent[2], sent[4]].map((m) => fields(/^Authorization: (Digest .*)$/m.exec(m)?.[1] ?? ''));
    assert.deepEqual(auth.map((f) => [f.algorithm, f.nonce]), [
      ['SHA-256', 'nonce-one'], ['SHA-256', 'nonce-two'], ['SHA-256', 'nonce-bye'],
    ]);
    assert.equal(auth[0].opaque, 'op1');
    assert.equal(auth[0].realm, 'carrier.test');
    for (const [i, method] of (['INVITE', 'INVITE', 'BYE'] as const).entries()) {
      assert.equal(auth[i].response, expectedResponse(auth[i], method, 's3cret'), `${method} #${i} response`);
    }
    // Each retry is a new transaction with a higher CSeq (RFC 3261 §22.2).
    const cseqs = sent.map((m) => Number(/^CSeq: (\d+)/m.exec(m)?.[1]));
    assert.deepEqual(cseqs, [...cseqs].sort((a, b) => a - b));
    assert.equal(new Set(cseqs).size, cseqs.length);
  } finally {
    sipp.stop();
    await env.close();
  }
});

test('each realm is answered once; a stale=true challenge once more, with the new nonce', () => {
  const res = (status: number, ...challenges: string[]): SipResponse => ({
    kind: 'response', status, reason: '', body: Buffer.alloc(0),
    headers: challenges.map((c): [string, string] => [status === 401 ? 'www-authenticate' : 'proxy-authenticate', c]),
  });
  const auth = new Authenticator({ username: 'u', password: 'p' });
  const first = auth.retry(res(407, 'Digest realm="proxy", nonce="a"'), 'INVITE', 'sip:b@h');
  assert.deepEqual(first?.map(([k]) => k), ['proxy-authorization']);
  // The far end challenges next: both credentials go with the retry.
  const second = auth.retry(res(401, 'Digest realm="far", nonce="b", algorithm=SHA-256'), 'INVITE', 'sip:b@h');
  assert.deepEqual(second?.map(([k]) => k), ['proxy-authorization', 'authorization']);
  assert.match(second![1][1], /algorithm=SHA-256/);
  assert.equal(auth.retry(res(401, 'Digest realm="far", nonce="c"'), 'INVITE', 'sip:b@h'), undefined, 'refused again: wrong password');
  const stale = auth.retry(res(401, 'Digest realm="far", nonce="d", stale=true'), 'INVITE', 'sip:b@h');
  assert.match(stale![1][1], /nonce="d"/);
  assert.equal(auth.retry(res(401, 'Digest realm="far", nonce="e", stale=true'), 'INVITE', 'sip:b@h'), undefined, 'stale only once');
  assert.equal(new Authenticator(undefined).retry(res(401, 'Digest realm="far", nonce="b"'), 'BYE', 'sip:b@h'), undefined, 'no credentials');
});

test('hanging up after a 407: the CANCEL carries the authenticated INVITE\'s branch and CSeq', { timeout: 30_000 }, async () => {
  const env = await startEnv({ credentials: { username: 'alice', password: 's3cret' } });
  const sipp = await startSipp('auth-cancel.xml');
  try {
    const s = call(env, 'sip', `bob@127.0.0.1:${sipp.port}`);
    await once(s, 'ringing');
    s.hangup();
    assert.equal(await sipp.done, 0, 'CANCEL answered, 487 ACKed');
    const all = messages(sipp.messages());
    const invites = all.filter((m) => m.startsWith('INVITE '));
    const cancel = all.find((m) => m.startsWith('CANCEL '))!;
    assert.equal(invites.length, 2);
    const f = fields(/^Proxy-Authorization: (Digest .*)$/m.exec(invites[1])?.[1] ?? '');
    assert.equal(f.algorithm, 'SHA-256');
    const ha1 = sha256(`alice:proxy.test:s3cret`);
    assert.equal(f.response, sha256(`${ha1}:proxy-nonce:${sha256(`INVITE:${f.uri}`)}`), 'no qop: RFC 2069 form with SHA-256');
    const branch = (m: string) => /^Via: .*;branch=([^;\s]+)/m.exec(m)?.[1];
    assert.equal(branch(cancel), branch(invites[1]));
    assert.notEqual(branch(invites[0]), branch(invites[1]));
    assert.equal(/^CSeq: (\d+) CANCEL/m.exec(cancel)?.[1], /^CSeq: (\d+) INVITE/m.exec(invites[1])?.[1]);
    await sleep(100);
    assert.equal(env.records.at(-1)?.endCause, 'canceled');
  } finally {
    sipp.stop();
    await env.close();
  }
});
