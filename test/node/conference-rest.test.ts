// The conference REST API against a real calling server with the conference service in its child process
// (127.0.0.1): auth, validation, callout → answer → in the room, mute, remove, end room, call records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer } from '../../src/server/calling-server.js';
import { mintUserToken } from '../../src/server/auth/tokens.js';
import { NodePeer, type PeerSession } from '../../src/server/node-peer/index.js';
import { CONFERENCE_PEER_ID } from '../../src/core/protocol.js';

const loopbackOnly = (a: string) => a === '127.0.0.1';

async function waitFor(pred: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('REST: auth and validation, callout rings a user who answers and joins, mute, remove, end room, call records', { timeout: 90_000 }, async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false, conference: { loopbackOnly: true, limits: { emptyRoomTimeout: 300, maxParticipants: 3 } } });
  const app = server.apiKeys.find((k) => k.role === 'app')!;
  const auth = `Basic ${Buffer.from(`${app.key}:${app.secret}`).toString('base64')}`;
  const api = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { authorization: auth }) => {
    const res = await fetch(`${server.url}/api/v1/conferences${path}`, {
      method, headers: { ...headers, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) as Record<string, unknown> & { error?: { code: string; field?: string } } : {} };
  };
  const peers: NodePeer[] = [];
  const peer = async (id: string) => {
    const p = await NodePeer.start({ id, server: server.url, token: async () => (await mintUserToken(server.secret, id)).token, candidateFilter: loopbackOnly });
    peers.push(p);
    return p;
  };
  try {
    // Auth and validation.
    assert.equal((await api('GET', '/standup', undefined, {})).status, 401);
    assert.equal((await api('GET', '/standup', undefined, { authorization: 'Basic Zm9vOmJhcg==' })).status, 401);
    assert.equal((await api('GET', '/no%20spaces')).body.error?.code, 'invalid-request');
    assert.equal((await api('GET', `/${'x'.repeat(65)}`)).status, 400);
    assert.deepEqual([(await api('GET', '/standup')).status, (await api('GET', '/standup')).body.error?.code], [404, 'not-found']);
    let r = await api('POST', '/standup/participants', { userId: 'bob', phoneNumber: '+46701234567' });
    assert.equal(r.status, 400);
    r = await api('POST', '/standup/participants', { userId: 'bad id' });
    assert.deepEqual([r.status, r.body.error?.field], [400, 'userId']);
    r = await api('POST', '/standup/participants', { userId: 'bob', extra: 1 });
    assert.deepEqual([r.status, r.body.error?.field], [400, 'extra']);
    r = await api('POST', '/standup/participants', '{not json');
    assert.equal(r.status, 400);
    r = await api('POST', '/standup/participants', { phoneNumber: '+46701234567' });
    assert.deepEqual([r.status, r.body.error?.code], [501, 'gateway-unavailable']);
    r = await api('POST', '/standup/participants', { userId: 'calling-gateway' });
    assert.deepEqual([r.status, r.body.error?.code], [400, 'invalid-participant']);
    const spec = await (await fetch(`${server.url}/api/v1/conferences/openapi.json`)).json() as { paths: Record<string, object> };
    assert.ok(spec.paths['/conferences/{id}/participants/{pid}']);

    // A participant joins by calling the room; the REST API sees them.
    const alice = await peer('rest-alice');
    const aliceSession = alice.call(CONFERENCE_PEER_ID, { callId: 'rest-alice-1', from: 'rest-alice', to: 'standup', callType: 'conference', video: false, headers: {} });
    await new Promise<void>((res) => aliceSession.once('media', () => res()));
    await waitFor(async () => ((await api('GET', '/standup')).body.participants as unknown[] | undefined)?.length === 1, 10_000, 'alice in room');

    // Callout: bob is rung, answers, joins.
    const bob = await peer('rest-bob');
    const rung = new Promise<PeerSession>((res) => bob.once('invite', res));
    r = await api('POST', '/standup/participants', { userId: 'rest-bob', displayName: 'Standup' });
    assert.equal(r.status, 201);
    assert.equal(r.body.state, 'ringing');
    const bobSession = await rung;
    assert.equal(bobSession.invite.callType, 'conference');
    bobSession.answer();
    await waitFor(async () => {
      const room = await api('GET', '/standup');
      return (room.body.participants as Array<{ id: string; state: string }>).some((p) => p.id === 'rest-bob' && p.state === 'joined');
    }, 10_000, 'bob joined');
    r = await api('POST', '/standup/participants', { userId: 'rest-bob' });
    assert.deepEqual([r.status, r.body.error?.code], [409, 'already-in-room']);

    // Mute bob from the backend.
    r = await api('PATCH', '/standup/participants/rest-bob', { muted: true });
    assert.deepEqual([r.status, r.body.muted, r.body.mutedByServer], [200, true, true]);
    assert.equal((await api('PATCH', '/standup/participants/rest-bob', { muted: 'yes' })).status, 400);
    assert.equal((await api('PATCH', '/standup/participants/ghost', { muted: true })).body.error?.code, 'participant-not-found');

    // Remove bob: his call ends, told why.
    const bobEnded = new Promise<unknown>((res) => bobSession.once('end', res));
    assert.equal((await api('DELETE', '/standup/participants/rest-bob')).status, 204);
    assert.equal(((await bobEnded) as { error?: { code: string } }).error?.code, 'removed');

    // End the room for everyone.
    const aliceEnded = new Promise<unknown>((res) => aliceSession.once('end', res));
    assert.equal((await api('DELETE', '/standup')).status, 204);
    assert.equal(((await aliceEnded) as { cause: string }).cause, 'hungUp');
    assert.equal((await api('GET', '/standup')).status, 404);
    assert.deepEqual((await api('GET', '')).body, { items: [] });

    // Call records: one per participant, with join and leave.
    await waitFor(async () => (await server.store.getCall('rest-alice-1'))?.endedAt != null, 5000, 'alice record ended');
    const rec = (await server.store.getCall('rest-alice-1'))!;
    assert.equal(rec.callType, 'conference');
    assert.equal(rec.callee, 'standup');
    assert.ok(rec.establishedAt !== null && rec.endedAt! >= rec.establishedAt);
    const bobRec = (await server.store.getCall(bobSession.callId));
    assert.ok(bobRec && bobRec.establishedAt !== null && bobRec.endedAt !== null, JSON.stringify(bobRec));
  } finally {
    for (const p of peers) await p.stop();
    await server.close();
  }
});

test('without the conference service the routes answer 503; limits from the environment are validated', async () => {
  const { limitsFromEnv } = await import('../../src/server/conference/index.js');
  assert.deepEqual(limitsFromEnv({}), {});
  assert.deepEqual(limitsFromEnv({ CONFERENCE_MAX_PARTICIPANTS: '8', CONFERENCE_MAX_ROOMS: '3', CONFERENCE_EMPTY_TIMEOUT_MS: '0' }), { maxParticipants: 8, maxRooms: 3, emptyRoomTimeout: 0 });
  for (const bad of [{ CONFERENCE_MAX_PARTICIPANTS: '1' }, { CONFERENCE_MAX_ROOMS: 'lots' }, { CONFERENCE_EMPTY_TIMEOUT_MS: '-5' }, { CONFERENCE_MAX_ROOMS: '2.5' }]) {
    assert.throws(() => limitsFromEnv(bad), RangeError, JSON.stringify(bad));
  }
  const server = await startCallingServer({ port: 0, serveDemo: false });
  try {
    const app = server.apiKeys.find((k) => k.role === 'app')!;
    const res = await fetch(`${server.url}/api/v1/conferences/standup`, { headers: { authorization: `Basic ${Buffer.from(`${app.key}:${app.secret}`).toString('base64')}` } });
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { error: { code: 'service-unavailable', message: 'The conference service is not running.' } });
    // The main API's routes are untouched by the conference router in front of them.
    assert.equal((await fetch(`${server.url}/api/v1/openapi.json`)).status, 200);
  } finally {
    await server.close();
  }
});
