// Incoming INVITEs are taken only from trusted sources (default 127.0.0.1 here: no trunk or proxy is configured), at
// most `invitesPerMinute` per source: sipp calling from 127.0.0.2 gets 403, a flood from a trusted source gets 503.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEnv, sleep, type Env } from './gateway-harness.js';

let env: Env;
const logs: string[] = [];
before(async () => { env = await startEnv({ invitesPerMinute: 3, log: (m) => logs.push(m) }); });
after(async () => { await env?.close(); });

test('sipp from 127.0.0.2 (not a trusted source) gets 403 Forbidden, logged; no app user rings', async () => {
  let rang = false;
  env.caller.on('invite', () => { rang = true; });
  const gw = env.gateway.sipEndpoint;
  const dir = mkdtempSync(join(tmpdir(), 'sipp-untrusted-'));
  const sipp = spawn('sipp', [`${gw.host}:${gw.port}`, '-sn', 'uac', '-s', env.callerId, '-i', '127.0.0.2', '-p', '0', '-m', '1', '-nostdin',
    '-trace_msg', '-timeout', '10s'], { stdio: 'ignore', cwd: dir });
  const code = await new Promise<number | null>((r) => sipp.on('exit', (c) => r(c)));
  const trace = readdirSync(dir).filter((f) => f.endsWith('_messages.log')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
  assert.notEqual(code, 0, 'the call failed for sipp');
  assert.match(trace, /SIP\/2\.0 403 Forbidden/);
  assert.ok(logs.some((l) => /incoming INVITE from 127\.0\.0\.2:\d+ refused: not a trusted source/.test(l)), logs.join('\n'));
  assert.equal(rang, false);
});

test('more INVITEs a minute than allowed from one trusted source: the rest get 503 with Retry-After', async () => {
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
  const statuses = new Map<string, number>();
  const retryAfter: string[] = [];
  sock.on('message', (m) => {
    const text = m.toString('latin1');
    const status = /^SIP\/2\.0 (\d{3})/.exec(text)?.[1];
    const id = /^Call-ID: (\S+)/im.exec(text)?.[1];
    if (status && id && Number(status) >= 200) statuses.set(id, Number(status));
    if (status === '503') retryAfter.push(/^Retry-After: (\d+)/im.exec(text)?.[1] ?? '');
  });
  const gw = env.gateway.sipEndpoint;
  const port = (sock.address()).port;
  for (let i = 0; i < 5; i++) {
    const id = `flood${i}-${process.pid}`;
    const msg = [`INVITE sip:nobody-${i}@${gw.host}:${gw.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:${port};branch=z9hG4bK${id};rport`,
      `From: <sip:flood@127.0.0.1>;tag=${id}`, `To: <sip:nobody-${i}@${gw.host}>`, `Call-ID: ${id}`, 'CSeq: 1 INVITE', 'Max-Forwards: 70',
      `Contact: <sip:flood@127.0.0.1:${port}>`, 'Content-Length: 0', '', ''].join('\r\n');
    sock.send(msg, gw.port, gw.host);
  }
  await sleep(3000);
  sock.close();
  const finals = [...statuses.values()];
  assert.equal(finals.filter((s) => s === 503).length, 2, `final statuses ${JSON.stringify([...statuses])}`);
  assert.equal(finals.length, 5, 'every INVITE got a final answer');
  assert.ok(retryAfter.length >= 2 && retryAfter.every((v) => v === '60'), `Retry-After ${JSON.stringify(retryAfter)}`);
  assert.ok(logs.some((l) => /refused: too many INVITEs a minute/.test(l)));
});
