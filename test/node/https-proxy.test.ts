// The shipped Caddy example is a valid config, and signalling's WebSocket upgrade passes through Caddy's
// reverse_proxy to a server run with TRUST_PROXY=1 (Caddy started by the test on 127.0.0.1, plain HTTP).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startCallingServer } from '../../src/server/calling-server.js';

test('deploy/Caddyfile passes `caddy validate`', () => {
  const out = execFileSync('caddy', ['validate', '--config', 'deploy/Caddyfile', '--adapter', 'caddyfile'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  assert.match(out, /Valid configuration/);
});

test('a signalling WebSocket through Caddy gets OPEN', async () => {
  const server = await startCallingServer({ port: 0, serveDemo: false, trustProxy: true });
  const dir = mkdtempSync(join(tmpdir(), 'calling-caddy-'));
  const port = 39_000 + Math.floor(Math.random() * 1000);
  writeFileSync(join(dir, 'Caddyfile'), `{\n\tadmin off\n\tauto_https off\n\tstorage file_system ${dir}\n}\nhttp://127.0.0.1:${port} {\n\treverse_proxy 127.0.0.1:${server.port}\n}\n`);
  const caddy = spawn('caddy', ['run', '--config', join(dir, 'Caddyfile'), '--adapter', 'caddyfile'], { stdio: 'ignore', env: { ...process.env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir } });
  try {
    let up = false;
    for (let i = 0; i < 100 && !up; i++) {
      await new Promise((r) => setTimeout(r, 100));
      up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    }
    assert.ok(up, 'Caddy proxies /healthz');
    const q = new URLSearchParams({ key: 'peerjs', id: 'alice', token: await server.mintToken('alice'), version: '1.5.5' });
    const ws = new WebSocket(`ws://127.0.0.1:${port}/peerjs/peerjs?${q}`);
    const first = await new Promise<{ type: string }>((resolve, reject) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { type: string }));
      ws.once('error', reject);
    });
    assert.equal(first.type, 'OPEN');
    ws.close();
  } finally {
    caddy.kill('SIGTERM');
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
