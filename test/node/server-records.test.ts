// Call detail records written from what the signalling server relays, with raw PeerJS-protocol clients on
// 127.0.0.1 and a real SQLite file; plus a restart that keeps them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import type { CallRecord } from '../../src/server/storage/store.js';
import { RawPeer, eventually, tempDir } from './server-support.js';

const SECRET = 'records-test-secret-with-enough-bytes-in-it';
let seq = 0;

function invite(callId: string, from: string, to: string, callType: 'user' | 'phone' = 'user'): object {
  return { v: 1, type: 'invite', callId, from, to, callType, video: false, headers: {} };
}

/** What a PeerJS caller sends: the call-control DataConnection offer (invite as metadata) and the media offer. */
function offerCall(caller: RawPeer, dst: string, callId: string, to = dst, callType: 'user' | 'phone' = 'user'): { data: string; media: string } {
  const data = `dc_${seq++}`;
  const media = `mc_${seq++}`;
  caller.send('OFFER', dst, { type: 'data', connectionId: data, sdp: { type: 'offer', sdp: 'x' }, metadata: invite(callId, caller.id, to, callType), label: data, reliable: true, serialization: 'json' });
  caller.send('OFFER', dst, { type: 'media', connectionId: media, sdp: { type: 'offer', sdp: 'x' }, metadata: { callId } });
  return { data, media };
}

describe('call detail records', () => {
  const tmp = tempDir();
  const dbPath = join(tmp.dir, 'calling.db');
  let server: CallingServer;
  const peers: RawPeer[] = [];
  const peer = async (id: string): Promise<RawPeer> => {
    const p = await RawPeer.connect(server, id, await server.mintToken(id));
    peers.push(p);
    return p;
  };
  const ended = (callId: string): Promise<CallRecord> =>
    eventually(async () => { const r = (await server.store.getCall(callId)); return r?.endedAt ? r : undefined; }, 5000, `${callId} ended`);

  before(async () => {
    server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET, dbPath, lostCallGrace: 400 });
  });
  after(async () => {
    await Promise.all(peers.map((p) => p.close()));
    await server.close();
    tmp.remove();
  });

  test('an answered call: started at the invite, established at the media answer, ended by a party\'s report', async () => {
    const alice = await peer('alice');
    const bob = await peer('bob');
    const { data, media } = offerCall(alice, 'bob', 'call-answered');
    await bob.waitFor((m) => m.type === 'OFFER');
    bob.send('ANSWER', 'alice', { type: 'data', connectionId: data, sdp: { type: 'answer', sdp: 'y' } });
    const started = (await server.store.getCall('call-answered'));
    assert.ok(started);
    assert.deepEqual([started.caller, started.callee, started.callType, started.establishedAt, started.endedAt], ['alice', 'bob', 'user', null, null]);
    bob.send('ANSWER', 'alice', { type: 'media', connectionId: media, sdp: { type: 'answer', sdp: 'y' } });
    await eventually(async () => (await server.store.getCall('call-answered'))?.establishedAt, 5000, 'established');
    bob.send('CALL-END', undefined, { callId: 'call-answered', cause: 'hungUp' });
    const r = await ended('call-answered');
    assert.equal(r.endCause, 'hungUp');
    assert.equal(r.endedBy, 'bob');
    assert.ok(r.startedAt <= r.establishedAt! && r.establishedAt! <= r.endedAt!);
    assert.equal(r.cost, 0);
    // A late second report changes nothing.
    alice.send('CALL-END', undefined, { callId: 'call-answered', cause: 'failure' });
    await new Promise((res) => setTimeout(res, 100));
    assert.equal((await server.store.getCall('call-answered'))?.endCause, 'hungUp');
  });

  test('a declined call: no media answer, ended as denied', async () => {
    const carol = await peer('carol');
    const dan = await peer('dan');
    const { data } = offerCall(carol, 'dan', 'call-declined');
    await dan.waitFor((m) => m.type === 'OFFER');
    dan.send('ANSWER', 'carol', { type: 'data', connectionId: data, sdp: { type: 'answer', sdp: 'y' } });
    dan.send('CALL-END', undefined, { callId: 'call-declined', cause: 'denied' });
    const r = await ended('call-declined');
    assert.deepEqual([r.endCause, r.establishedAt, r.endedBy], ['denied', null, 'dan']);
  });

  test('a canceled call: the caller ends it before any answer', async () => {
    const erin = await peer('erin');
    const fred = await peer('fred');
    offerCall(erin, 'fred', 'call-canceled');
    await fred.waitFor((m) => m.type === 'OFFER');
    erin.send('CALL-END', undefined, { callId: 'call-canceled', cause: 'canceled' });
    const r = await ended('call-canceled');
    assert.deepEqual([r.endCause, r.establishedAt, r.endedBy], ['canceled', null, 'erin']);
  });

  test('an unreachable callee: the server ends the call as unavailable by itself', async () => {
    const gail = await peer('gail');
    offerCall(gail, 'nobody-home', 'call-unreachable');
    await gail.waitFor((m) => m.type === 'EXPIRE');
    const r = await ended('call-unreachable');
    assert.deepEqual([r.endCause, r.endedBy, r.establishedAt], ['unavailable', 'server', null]);
  });

  test('reports are cross-checked: outsiders are ignored and causes that contradict the server are corrected', async () => {
    const hal = await peer('hal');
    const ian = await peer('ian');
    const eve = await peer('eve');
    offerCall(hal, 'ian', 'call-checked');
    await ian.waitFor((m) => m.type === 'OFFER');
    eve.send('CALL-END', undefined, { callId: 'call-checked', cause: 'hungUp' });
    ian.send('CALL-END', undefined, { callId: 'call-checked', cause: 'bogus' });
    ian.send('CALL-END', undefined, 'not even an object');
    await new Promise((res) => setTimeout(res, 150));
    assert.equal((await server.store.getCall('call-checked'))?.endedAt, null, 'neither an outsider nor a malformed report ends it');
    // "hungUp" without any answer seen: from the callee that is a decline.
    ian.send('CALL-END', undefined, { callId: 'call-checked', cause: 'hungUp' });
    assert.equal((await ended('call-checked')).endCause, 'denied');
  });

  test('a forged invite (someone else as caller) is not recorded', async () => {
    const jay = await peer('jay');
    await peer('kim');
    jay.send('OFFER', 'kim', { type: 'data', connectionId: 'dc_forged', sdp: {}, metadata: invite('call-forged', 'someone-else', 'kim') });
    await new Promise((res) => setTimeout(res, 150));
    assert.equal((await server.store.getCall('call-forged')), undefined);
  });

  test('a party that vanishes ends its open calls with signallingLost', async () => {
    const lee = await peer('lee');
    const mo = await peer('mo');
    const { data, media } = offerCall(lee, 'mo', 'call-lost');
    await mo.waitFor((m) => m.type === 'OFFER');
    mo.send('ANSWER', 'lee', { type: 'data', connectionId: data, sdp: {} });
    mo.send('ANSWER', 'lee', { type: 'media', connectionId: media, sdp: {} });
    await eventually(async () => (await server.store.getCall('call-lost'))?.establishedAt, 5000, 'established');
    const leftAt = Date.now();
    await lee.close();
    const r = await ended('call-lost');
    assert.deepEqual([r.endCause, r.endedBy], ['signallingLost', 'server']);
    assert.ok(r.endedAt! - leftAt < 300, 'dated when the party left, not when the grace ran out');
  });

  test('a party that reconnects within the grace keeps its calls open', async () => {
    const pam = await peer('pam');
    const ray = await peer('ray');
    const { data, media } = offerCall(pam, 'ray', 'call-blip');
    await ray.waitFor((m) => m.type === 'OFFER');
    ray.send('ANSWER', 'pam', { type: 'data', connectionId: data, sdp: {} });
    ray.send('ANSWER', 'pam', { type: 'media', connectionId: media, sdp: {} });
    await eventually(async () => (await server.store.getCall('call-blip'))?.establishedAt, 5000, 'established');
    await pam.close();
    const again = await peer('pam');
    await new Promise((res) => setTimeout(res, 800));
    assert.equal((await server.store.getCall('call-blip'))?.endedAt, null);
    again.send('CALL-END', undefined, { callId: 'call-blip', cause: 'hungUp' });
    assert.deepEqual([(await ended('call-blip')).endCause, (await ended('call-blip')).endedBy], ['hungUp', 'pam']);
  });

  test('a phone call is ended and billed by the gateway, never by the caller', async () => {
    (await server.store.setRate('46', 12, 'Sweden'));
    (await server.store.topUp('nina', 100));
    const nina = await peer('nina');
    const gateway = await peer(GATEWAY_PEER_ID);
    const { data, media } = offerCall(nina, GATEWAY_PEER_ID, 'call-phone', '+46812345678', 'phone');
    await gateway.waitFor((m) => m.type === 'OFFER');
    gateway.send('ANSWER', 'nina', { type: 'data', connectionId: data, sdp: {} });
    gateway.send('ANSWER', 'nina', { type: 'media', connectionId: media, sdp: {} });
    await eventually(async () => (await server.store.getCall('call-phone'))?.establishedAt, 5000, 'established');
    nina.send('CALL-END', undefined, { callId: 'call-phone', cause: 'hungUp' });
    await new Promise((res) => setTimeout(res, 150));
    assert.equal((await server.store.getCall('call-phone'))?.endedAt, null, "the caller's report does not end a billed call");
    gateway.send('CALL-END', undefined, { callId: 'call-phone', cause: 'hungUp' });
    const r = await ended('call-phone');
    assert.deepEqual([r.callee, r.calleePeer, r.callType, r.cost, r.endedBy], ['+46812345678', GATEWAY_PEER_ID, 'phone', 12, GATEWAY_PEER_ID]);
    assert.equal((await server.store.getAccount('nina'))?.balance, 88);
    const [charge] = (await server.store.history('nina', { limit: 1, offset: 0 })).items;
    assert.deepEqual([charge?.kind, charge?.amount, charge?.callId], ['charge', -12, 'call-phone']);
  });

  test('a restarted server still has the records, balances and rates', async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await server.close();
    server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET, dbPath });
    assert.equal((await server.store.getCall('call-answered'))?.endCause, 'hungUp');
    assert.equal((await server.store.getCall('call-phone'))?.cost, 12);
    assert.equal((await server.store.getAccount('nina'))?.balance, 88);
    assert.equal((await server.store.rateFor('+46812345678'))?.perMinute, 12);
  });
});
