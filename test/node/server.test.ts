import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startCallingServer } from '../../src/server/calling-server.js';
import { mintUserToken } from '../../src/server/auth/tokens.js';

test('the server binds 127.0.0.1, answers health checks and accepts PeerJS signalling on /peerjs', async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { ok: true, checks: { signalling: 'up', database: 'up' } });

    const { token } = await mintUserToken(server.secret, 'alice-1');
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/peerjs/peerjs?key=peerjs&id=alice-1&token=${token}`);
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (d) => resolve(d.toString()));
      ws.once('error', reject);
    });
    assert.equal(JSON.parse(first).type, 'OPEN');
    ws.close();
  } finally {
    await server.close();
  }
});

test('the demo page and the bundle are served', async () => {
  const server = await startCallingServer({ port: 0 });
  try {
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /calling-elements/);
    const missing = await fetch(`${server.url}/no-such-page`);
    assert.equal(missing.status, 404);
  } finally {
    await server.close();
  }
});
