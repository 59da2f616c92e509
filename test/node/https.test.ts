// HTTPS + WSS from `npm start` (TLS_CERT / TLS_KEY), certificate reload on SIGHUP, and TRUST_PROXY=1: the real
// main.ts as a child process, a test CA made with openssl.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { get as httpGet } from 'node:http';
import type { TLSSocket } from 'node:tls';
import WebSocket from 'ws';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { startMain, type MainProcess } from '../support/start-main.js';

let ca: TestCa;
let main: MainProcess;
let port: number;
let certFile: string;
let keyFile: string;

before(async () => {
  ca = makeTestCa();
  const first = ca.issue('first');
  certFile = `${ca.dir}/live.pem`;
  keyFile = `${ca.dir}/live.key`;
  copyFileSync(first.certFile, certFile);
  copyFileSync(first.keyFile, keyFile);
  main = startMain({ HOST: '127.0.0.1', TLS_CERT: certFile, TLS_KEY: keyFile });
  port = Number((await main.waitFor(/calling-elements server: https:\/\/127\.0\.0\.1:(\d+)/))[1]);
});

after(async () => {
  await main?.stop();
  if (ca) rmSync(ca.dir, { recursive: true, force: true });
});

/** GET over HTTPS trusting only the test CA; resolves with the status, body and the server certificate's CN. */
function getTls(path: string): Promise<{ status: number; body: string; cn: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsGet({ host: '127.0.0.1', port, path, ca: readFileSync(ca.caCert), agent: false }, (res) => {
      const cn = String((res.socket as TLSSocket).getPeerCertificate().subject.CN);
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, cn }));
    });
    req.on('error', reject);
  });
}

test('HTTPS serves the demo, the bundle route and the REST API; the certificate is the configured one', async () => {
  const page = await getTls('/');
  assert.equal(page.status, 200);
  assert.match(page.body, /<call-provider|<html/i);
  assert.equal(page.cn, 'first');
  const openapi = await getTls('/api/v1/openapi.json');
  assert.equal(openapi.status, 200);
});

test('signalling over WSS: a signed-in client gets OPEN', async () => {
  const { token } = JSON.parse((await getTls('/dev/token?userId=alice')).body) as { token: string };
  const q = new URLSearchParams({ key: 'peerjs', id: 'alice', token, version: '1.5.5' });
  const ws = new WebSocket(`wss://127.0.0.1:${port}/peerjs/peerjs?${q}`, { ca: readFileSync(ca.caCert) });
  const first = await new Promise<{ type: string }>((resolve, reject) => {
    ws.once('message', (d) => resolve(JSON.parse(d.toString()) as { type: string }));
    ws.once('error', reject);
  });
  assert.equal(first.type, 'OPEN');
  ws.close();
});

test('plain HTTP to the TLS port gets no page', async () => {
  const outcome = await new Promise<string>((resolve) => {
    const req = httpGet({ host: '127.0.0.1', port, path: '/healthz', agent: false }, (res) => resolve(`status ${res.statusCode}`));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(`error ${err.code ?? err.message}`));
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
  assert.match(outcome, /^error /, outcome);
});

test('SIGHUP reloads the certificate without a restart; a bad file keeps the old one', async () => {
  const second = ca.issue('second');
  copyFileSync(second.certFile, certFile);
  copyFileSync(second.keyFile, keyFile);
  main.child.kill('SIGHUP');
  await main.waitFor(/TLS certificate reloaded from /);
  assert.equal((await getTls('/healthz')).cn, 'second');

  rmSync(keyFile);
  main.child.kill('SIGHUP');
  await main.waitFor(/TLS certificate not reloaded, the previous one stays in use: TLS key .* cannot be read \(ENOENT\)/);
  const still = await getTls('/healthz');
  assert.equal(still.status, 200);
  assert.equal(still.cn, 'second');
  assert.equal(main.child.exitCode, null);
});

test('TRUST_PROXY=1: failed-authentication limits count per X-Forwarded-For client, not per proxy', async () => {
  const statuses = async (srv: MainProcess, p: number, client: string, n: number) => {
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const res = await fetch(`http://127.0.0.1:${p}/api/v1/accounts/nobody`, { headers: { 'x-forwarded-for': client, authorization: 'Basic eDp5' } });
      out.push(res.status);
    }
    return out;
  };
  for (const trust of ['1', '0']) {
    const srv = startMain({ HOST: '127.0.0.1', TRUST_PROXY: trust });
    try {
      const p = Number((await srv.waitFor(/calling-elements server: http:\/\/localhost:(\d+)/))[1]);
      const first = await statuses(srv, p, '203.0.113.7', 21);
      assert.equal(first.at(-1), 429, 'the 21st failure from one client is limited');
      const other = await statuses(srv, p, '198.51.100.9', 1);
      // Trusted: another client behind the same proxy is not limited. Not trusted: the header means nothing.
      assert.equal(other[0], trust === '1' ? 401 : 429);
    } finally {
      await srv.stop();
    }
  }
});
