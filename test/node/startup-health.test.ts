// GET /healthz for monitoring: signalling, database, and the conference child process — down when the child dies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer } from '../../src/server/calling-server.js';

test('/healthz says which part is down: 503 while the conference child is dead, 200 once it is back', async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false, conference: { loopbackOnly: true } });
  try {
    const first = await fetch(`${server.url}/healthz`);
    assert.equal(first.status, 200);
    assert.deepEqual(await first.json(), { ok: true, checks: { signalling: 'up', database: 'up', conference: 'up' } });

    let extra = true;
    server.addHealthCheck('gateway', () => extra);
    extra = false;
    const gatewayDown = await fetch(`${server.url}/healthz`);
    assert.equal(gatewayDown.status, 503);
    assert.deepEqual(await gatewayDown.json(), { ok: false, checks: { signalling: 'up', database: 'up', conference: 'up', gateway: 'down' } });
    extra = true;

    process.kill(server.conferences.process!.pid!, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    const down = await fetch(`${server.url}/healthz`);
    assert.equal(down.status, 503);
    assert.equal(((await down.json()) as { checks: Record<string, string> }).checks.conference, 'down');
    // The service restarts itself (0.5 s later): healthy again.
    let status = 0;
    for (let i = 0; i < 100 && status !== 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      status = (await fetch(`${server.url}/healthz`)).status;
    }
    assert.equal(status, 200);
  } finally {
    await server.close();
  }
});
