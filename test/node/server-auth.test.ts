// Signalling auth at the WebSocket level: the whole token matrix against a real server on 127.0.0.1.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CONFERENCE_PEER_ID, GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { mintServiceToken, mintUserToken, verifyToken } from '../../src/server/auth/tokens.js';
import { craftToken, eventually, handshake } from './server-support.js';

const SECRET = 'test-secret-of-at-least-thirty-two-bytes!';
const now = (): number => Math.floor(Date.now() / 1000);

describe('signalling auth', () => {
  let server: CallingServer;
  before(async () => {
    server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET });
  });
  after(() => server.close());

  async function expectRefused(id: string, token: string | undefined, reason: RegExp): Promise<void> {
    const { first, closed } = await handshake(server, id, token);
    assert.equal(first?.type, 'ERROR', `expected a refusal, got ${JSON.stringify(first)}`);
    assert.match(first?.payload?.msg ?? '', /^unauthorized: /);
    assert.match(first?.payload?.msg ?? '', reason);
    assert.equal(await closed, 4401);
    assert.equal(server.recorder.online.has(id), false, `${id} must not be registered`);
  }

  test('a valid token for the id it names opens the connection', async () => {
    const { token } = await mintUserToken(SECRET, 'alice');
    const { ws, first } = await handshake(server, 'alice', token);
    assert.equal(first?.type, 'OPEN');
    await eventually(() => server.recorder.online.has('alice'), 2000, 'alice online');
    ws.close();
  });

  test('a missing token is refused', () => expectRefused('nobody', undefined, /No token/));

  test('a forged signature is refused', async () => {
    const forged = await craftToken('another-secret-of-at-least-thirty-two-bytes', { sub: 'mallory', exp: now() + 600 });
    await expectRefused('mallory', forged, /signature is invalid/);
  });

  test('a token whose payload was altered is refused', async () => {
    const { token } = await mintUserToken(SECRET, 'bob');
    const [h, , s] = token.split('.');
    const payload = Buffer.from(JSON.stringify({ sub: 'carol', iss: 'calling-elements', jti: 'x', exp: now() + 600 })).toString('base64url');
    await expectRefused('carol', `${h}.${payload}.${s}`, /signature is invalid/);
  });

  test('an expired token is refused', async () => {
    const expired = await craftToken(SECRET, { sub: 'dave', exp: now() - 5 });
    await expectRefused('dave', expired, /expired/);
  });

  test("someone else's token is refused", async () => {
    const { token } = await mintUserToken(SECRET, 'erin');
    await expectRefused('frank', token, /another user id/);
  });

  test('garbage and a token with no algorithm are refused', async () => {
    await expectRefused('gina', 'not-a-jwt', /not a valid calling token/);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ sub: 'gina', exp: now() + 60 })).toString('base64url')}.`;
    await expectRefused('gina', none, /not a valid calling token/);
  });

  test('reserved ids cannot be claimed with a user token, only with a service token', async () => {
    await assert.rejects(mintUserToken(SECRET, GATEWAY_PEER_ID), /reserved/);
    const userStyle = await craftToken(SECRET, { sub: GATEWAY_PEER_ID, exp: now() + 600 });
    await expectRefused(GATEWAY_PEER_ID, userStyle, /reserved/);
    const userStyleConf = await craftToken(SECRET, { sub: CONFERENCE_PEER_ID, exp: now() + 600 });
    await expectRefused(CONFERENCE_PEER_ID, userStyleConf, /reserved/);

    const { token } = await mintServiceToken(SECRET, GATEWAY_PEER_ID);
    const { ws, first } = await handshake(server, GATEWAY_PEER_ID, token);
    assert.equal(first?.type, 'OPEN');
    ws.close();
    await assert.rejects(mintServiceToken(SECRET, 'alice'), /not a reserved/);
  });

  test('a token opens one connection only: a replayed token is refused', async () => {
    const { token } = await mintUserToken(SECRET, 'henry');
    const first = await handshake(server, 'henry', token);
    assert.equal(first.first?.type, 'OPEN');
    first.ws.close();
    await first.closed;
    await expectRefused('henry', token, /already used/);
  });

  test('a second valid token for an id already online gets ID-TAKEN', async () => {
    const a = await handshake(server, 'ivy', (await mintUserToken(SECRET, 'ivy')).token);
    assert.equal(a.first?.type, 'OPEN');
    const b = await handshake(server, 'ivy', (await mintUserToken(SECRET, 'ivy')).token);
    assert.equal(b.first?.type, 'ID-TAKEN');
    a.ws.close();
  });

  test('a connection ends when its token expires, unless the client presents a fresh one', async () => {
    const stale = await handshake(server, 'jack', (await mintUserToken(SECRET, 'jack', 2)).token);
    const fresh = await handshake(server, 'kate', (await mintUserToken(SECRET, 'kate', 2)).token);
    const service = await handshake(server, CONFERENCE_PEER_ID, (await mintServiceToken(SECRET, CONFERENCE_PEER_ID, 2)).token);
    assert.equal(service.first?.type, 'OPEN');
    assert.equal(stale.first?.type, 'OPEN');
    assert.equal(fresh.first?.type, 'OPEN');
    const staleMessages: string[] = [];
    stale.ws.on('message', (d) => staleMessages.push(d.toString()));
    fresh.ws.send(JSON.stringify({ type: 'TOKEN', payload: (await mintUserToken(SECRET, 'kate', 600)).token }));
    // A refresh for another user changes nothing for jack.
    stale.ws.send(JSON.stringify({ type: 'TOKEN', payload: (await mintUserToken(SECRET, 'kate', 600)).token }));
    assert.equal(await stale.closed, 4401);
    assert.match(staleMessages.join(''), /expired/);
    assert.equal(fresh.ws.readyState, fresh.ws.OPEN, 'the refreshed connection stays open');
    assert.equal(service.ws.readyState, service.ws.OPEN, 'a service session is not cut at token expiry');
    fresh.ws.close();
    service.ws.close();
  });

  test('garbage from an authenticated client crashes nothing and reaches nobody', async () => {
    const a = await handshake(server, 'mia', (await mintUserToken(SECRET, 'mia')).token);
    const b = await handshake(server, 'ned', (await mintUserToken(SECRET, 'ned')).token);
    const received: string[] = [];
    b.ws.on('message', (d) => received.push(d.toString()));
    for (const frame of ['not json', '{"type":', '[]', 'null', '{"type":"OFFER"}', '{"type":"OFFER","dst":"ned","payload":{"type":"data","metadata":{"v":1,"type":"invite"}}}',
      '{"type":"CALL-END","payload":{"callId":{"$gt":""}}}', '{"type":"TOKEN","payload":42}', JSON.stringify({ type: 'ANSWER', dst: 'ned', payload: 'x'.repeat(1000) }),
      '{"type":"EXPIRE","dst":"ned"}', '{"type":"CANDIDATE","dst":"ned","payload":[1]}', '{"type":"OFFER","dst":["ned"],"payload":{}}']) {
      a.ws.send(frame);
    }
    a.ws.send('x'.repeat(300 * 1024)); // over the frame cap: that socket is closed, the server lives on
    assert.equal(await a.closed, 1009);
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    const c = await handshake(server, 'opal', (await mintUserToken(SECRET, 'opal')).token);
    assert.equal(c.first?.type, 'OPEN');
    assert.deepEqual(received, [], 'malformed frames are dropped, not relayed');
    b.ws.close();
    c.ws.close();
  });

  test('tokens are verified as HS256 with subject, expiry and a unique id', async () => {
    const a = await mintUserToken(SECRET, 'lena', 120);
    const b = await mintUserToken(SECRET, 'lena', 120);
    assert.notEqual(a.jti, b.jti);
    const v = await verifyToken(SECRET, a.token, 'lena');
    assert.equal(v.sub, 'lena');
    assert.ok(Math.abs(v.expiresAt - (Date.now() + 120_000)) < 5000);
    await assert.rejects(mintUserToken(SECRET, 'bad id'), /may only contain/);
  });
});

describe('demo mode', () => {
  test('without a secret the server generates one and serves a dev token endpoint', async () => {
    const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false });
    try {
      assert.equal(server.devMode, true);
      const res = await fetch(`${server.url}/dev/token?userId=zoe`);
      assert.equal(res.status, 200);
      const { token } = (await res.json()) as { token: string };
      const { ws, first } = await handshake(server, 'zoe', token);
      assert.equal(first?.type, 'OPEN');
      ws.close();
      const bad = await fetch(`${server.url}/dev/token?userId=${GATEWAY_PEER_ID}`);
      assert.equal(bad.status, 400);
    } finally {
      await server.close();
    }
  });

  test('with a secret the dev token endpoint does not exist', async () => {
    const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET });
    try {
      assert.equal(server.devMode, false);
      assert.equal((await fetch(`${server.url}/dev/token?userId=zoe`)).status, 404);
    } finally {
      await server.close();
    }
  });
});
