// TURN over TLS from the embedded coturn: `npm start` (main.ts) with TLS_CERT / TLS_KEY and TURN=embedded makes
// coturn answer TLS on TURN_TLS_PORT with the server's certificate, hands out a turns: URI naming the certificate's
// host, and re-reads the certificate on SIGHUP like the HTTPS listener does. A test CA made with openssl; the real
// coturn.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes, X509Certificate } from 'node:crypto';
import { connect } from 'node:tls';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { startMain, type MainProcess } from '../support/start-main.js';
import { coturnInstalled } from '../../src/server/turn/embedded.js';

let ca: TestCa;
let main: MainProcess;
let certFile: string;
let keyFile: string;
const turnPort = 41_000 + Math.floor(Math.random() * 1000);
const tlsPort = turnPort + 30;

before(async () => {
  assert.ok(coturnInstalled(), 'coturn (turnserver) is needed: apt-get install coturn');
  ca = makeTestCa();
  const first = ca.issue('first', 'DNS:calling.test');
  certFile = `${ca.dir}/live.pem`;
  keyFile = `${ca.dir}/live.key`;
  copyFileSync(first.certFile, certFile);
  copyFileSync(first.keyFile, keyFile);
  main = startMain({
    HOST: '127.0.0.1', TLS_CERT: certFile, TLS_KEY: keyFile, TURN: 'embedded', TURN_PORT: String(turnPort),
    TURN_MIN_PORT: String(turnPort + 1), TURN_MAX_PORT: String(turnPort + 20), TURN_TLS_PORT: String(tlsPort),
  });
  await main.waitFor(/calling-elements server: https:/);
});

after(async () => {
  await main?.stop();
  if (ca) rmSync(ca.dir, { recursive: true, force: true });
});

/**
 * Opens TLS to coturn's TLS port as a browser would for turns:calling.test (trusting only the test CA, checking the
 * name), sends a STUN Binding request over it and resolves with the certificate's serial and the answer's type.
 */
function stunOverTls(): Promise<{ serial: string; answer: number }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port: tlsPort, servername: 'calling.test', ca: readFileSync(ca.caCert) }, () => {
      const request = Buffer.alloc(20);
      request.writeUInt16BE(0x0001, 0); // Binding request, no attributes
      request.writeUInt32BE(0x2112a442, 4);
      randomBytes(12).copy(request, 8);
      socket.write(request);
    });
    const timer = setTimeout(() => { socket.destroy(); reject(new Error('no STUN answer over TLS within 5 s')); }, 5000);
    socket.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve({ serial: socket.getPeerCertificate().serialNumber, answer: d.readUInt16BE(0) });
      socket.end();
    });
    socket.once('error', (err) => { clearTimeout(timer); reject(err); });
  });
}

const serialOf = (file: string) => new X509Certificate(readFileSync(file)).serialNumber;

test('coturn answers STUN over TLS on TURN_TLS_PORT with the configured certificate; clients get a turns: URI naming its host', async () => {
  const { serial, answer } = await stunOverTls();
  assert.equal(serial, serialOf(certFile));
  assert.equal(answer, 0x0101, 'a Binding success response');
  const urls = (await main.waitFor(/TURN: (.*) \(embedded coturn/))[1]!.split(', ');
  assert.deepEqual(urls, [
    `turn:127.0.0.1:${turnPort}?transport=udp`, `turn:127.0.0.1:${turnPort}?transport=tcp`, `turns:calling.test:${tlsPort}?transport=tcp`,
  ]);
});

test('after the files are replaced and SIGHUP, coturn presents the new certificate', async () => {
  const second = ca.issue('second', 'DNS:calling.test');
  copyFileSync(second.certFile, certFile);
  copyFileSync(second.keyFile, keyFile);
  assert.notEqual((await stunOverTls()).serial, serialOf(certFile), 'coturn keeps the old certificate until told');
  main.child.kill('SIGHUP');
  await main.waitFor(/TLS certificate reloaded from .* \(also for TURN over TLS\)/);
  // coturn's relay threads take the new certificate asynchronously, within a few ms of the signal.
  const deadline = Date.now() + 3000;
  let seen = await stunOverTls();
  while (seen.serial !== serialOf(certFile) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    seen = await stunOverTls();
  }
  assert.equal(seen.serial, serialOf(certFile));
  assert.equal(seen.answer, 0x0101);
  assert.equal(main.child.exitCode, null);
});

test('TURN_HOST names every default TURN URI; one the certificate does not cover leaves turns: out, with one warning', async () => {
  const port = turnPort + 100;
  const run = async (turnHost: string) => {
    const other = startMain({
      HOST: '127.0.0.1', PORT: '0', TLS_CERT: certFile, TLS_KEY: keyFile, TURN: 'embedded', TURN_HOST: turnHost,
      TURN_PORT: String(port), TURN_MIN_PORT: String(port + 1), TURN_MAX_PORT: String(port + 10), TURN_TLS_PORT: String(port + 20),
    });
    try {
      return { urls: (await other.waitFor(/TURN: (.*) \(embedded coturn/))[1]!.split(', '), stderr: other.stderr() };
    } finally {
      await other.stop();
    }
  };
  const covered = await run('calling.test');
  assert.deepEqual(covered.urls, [
    `turn:calling.test:${port}?transport=udp`, `turn:calling.test:${port}?transport=tcp`, `turns:calling.test:${port + 20}?transport=tcp`,
  ]);
  assert.equal(covered.stderr, '');
  const uncovered = await run('turn.other.test');
  assert.deepEqual(uncovered.urls, [`turn:turn.other.test:${port}?transport=udp`, `turn:turn.other.test:${port}?transport=tcp`]);
  assert.equal(uncovered.stderr.trim(), `Warning: TURN over TLS (port ${port + 20}) is not in the default TURN_URLS: TLS_CERT does not cover TURN_HOST=turn.other.test.`);
});
