// A call over https:// + wss:// between two Chromium pages on a name that is not localhost (so only HTTPS makes
// the page a secure context with a microphone), against the real `npm start` server (main.ts) with TLS_CERT /
// TLS_KEY from a test CA and TURN=embedded (which then also serves TURN over TLS with that certificate). Chromium
// trusts the certificate only through this test's --ignore-certificate-errors-spki-list flag: its WebRTC TURN/TLS
// connections honour that flag too (without it, the turns: server fails with ICE error 701 and no relay candidate).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { makeTestCa, type TestCa } from '../support/test-ca.js';
import { startMain, type MainProcess } from '../support/start-main.js';
import { CHROMIUM, CHROMIUM_ARGS, keepNames, mediaFlow, placeVideoCall, signIn } from '../support/browser-call.js';
import { mintTurnCredentials } from '../../src/server/turn/credentials.js';

let ca: TestCa;
let main: MainProcess;
let browser: Browser;
let origin: string;
let turnsUrl: string;
const turnSecret = 'turns-test-secret-'.padEnd(32, 'x');

before(async () => {
  assert.ok(existsSync('dist/calling-elements.js'), 'build first: node scripts/build.mjs');
  ca = makeTestCa();
  const { certFile, keyFile, pem } = ca.issue('calling.test', 'DNS:calling.test');
  const spki = createHash('sha256').update(new X509Certificate(pem).publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
  const turnPort = 38_000 + Math.floor(Math.random() * 1000);
  turnsUrl = `turns:calling.test:${turnPort + 41}?transport=tcp`;
  main = startMain({
    HOST: '127.0.0.1', TLS_CERT: certFile, TLS_KEY: keyFile, TURN_SECRET: turnSecret,
    TURN: 'embedded', TURN_PORT: String(turnPort), TURN_MIN_PORT: String(turnPort + 1), TURN_MAX_PORT: String(turnPort + 40), TURN_TLS_PORT: String(turnPort + 41),
  });
  const port = Number((await main.waitFor(/calling-elements server: https:\/\/127\.0\.0\.1:(\d+)/))[1]);
  origin = `https://calling.test:${port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [...CHROMIUM_ARGS, '--host-resolver-rules=MAP calling.test 127.0.0.1', `--ignore-certificate-errors-spki-list=${spki}`],
  });
});

after(async () => {
  await browser?.close();
  await main?.stop();
  if (ca) rmSync(ca.dir, { recursive: true, force: true });
});

/** Two pages at the server's https:// origin, page errors logged. */
async function twoPages(): Promise<[Page, Page]> {
  const pages = [await browser.newPage(), await browser.newPage()] as [Page, Page];
  for (const p of pages) {
    p.on('pageerror', (e) => console.error('page error:', e.message));
    await p.goto(`${origin}/`);
  }
  return pages;
}

test('a video call over https:// and wss://, media both ways; the callee (provider with ice-transport-policy="relay") sends it through the TURN relay', async () => {
  const [alice, bob] = await twoPages();
  assert.equal(await alice.evaluate(() => window.isSecureContext && location.protocol), 'https:');

  const aliceServers = await signIn(alice, 'alice');
  assert.equal(aliceServers.length, 1, 'the server handed the client its TURN servers');
  assert.match(String((aliceServers[0]!.urls as string[])[0]), /^turn:127\.0\.0\.1:\d+\?transport=udp$/);
  assert.ok((aliceServers[0]!.urls as string[]).includes(turnsUrl), `a turns: URI naming the certificate's host: ${JSON.stringify(aliceServers[0]!.urls)}`);
  assert.match(String(aliceServers[0]!.username), /^\d+:alice$/);

  // Bob: the <call-provider> element with the attribute, answering what rings.
  await keepNames(bob);
  const bobPolicy = await bob.evaluate(async () => {
    await import('/dist/calling-elements.js' as string);
    const el = document.createElement('call-provider') as HTMLElement & { client: import('../../src/index.js').CallClient | null };
    el.setAttribute('server', location.origin);
    el.setAttribute('user-id', 'bob');
    el.setAttribute('ice-transport-policy', 'relay');
    document.body.append(el);
    for (let i = 0; i < 100 && el.client?.connectionState !== 'connected'; i++) await new Promise((r) => setTimeout(r, 100));
    const w = window as unknown as Record<string, unknown>;
    el.client!.addEventListener('incomingcall', (e) => { w.call = e.call; e.call.answer({ video: true }); });
    await new Promise((r) => setTimeout(r, 200));
    return { state: el.client!.connectionState, servers: el.client!.iceServers.length };
  });
  assert.deepEqual(bobPolicy, { state: 'connected', servers: 1 });

  const outcome = await placeVideoCall(alice, 'bob');
  assert.equal(outcome.state, 'established', JSON.stringify(outcome));
  const [a, b] = await Promise.all([mediaFlow(alice), mediaFlow(bob)]);
  assert.ok(a.audioPacketsReceived > 20 && a.videoBytesReceived > 10_000, `alice receives: ${JSON.stringify(a)}`);
  assert.ok(b.audioPacketsReceived > 20 && b.videoBytesReceived > 10_000, `bob receives: ${JSON.stringify(b)}`);
  assert.equal(b.local, 'relay', `bob's media path: ${JSON.stringify(b)}`);
});

test('TURN over TLS only: two clients whose only ICE server is the turns: URI, relay only, call with media both ways', async () => {
  const [carol, dave] = await twoPages();
  // What the server hands out, cut down to the turns: URI: as if UDP and plain TCP to the TURN port were blocked.
  const turnsOnly = (user: string) => mintTurnCredentials({ urls: [turnsUrl], secret: turnSecret }, user).iceServers;
  await signIn(dave, 'dave', { iceServers: turnsOnly('dave'), iceTransportPolicy: 'relay' });
  assert.deepEqual((await signIn(carol, 'carol', { iceServers: turnsOnly('carol'), iceTransportPolicy: 'relay' })).map((s) => s.urls), [[turnsUrl]]);

  const outcome = await placeVideoCall(carol, 'dave');
  assert.equal(outcome.state, 'established', JSON.stringify(outcome));
  const [c, d] = await Promise.all([mediaFlow(carol), mediaFlow(dave)]);
  assert.ok(c.audioPacketsReceived > 20 && c.videoBytesReceived > 10_000, `carol receives: ${JSON.stringify(c)}`);
  assert.ok(d.audioPacketsReceived > 20 && d.videoBytesReceived > 10_000, `dave receives: ${JSON.stringify(d)}`);
  for (const flow of [c, d]) assert.deepEqual([flow.local, flow.relayProtocol], ['relay', 'tls'], `media path: ${JSON.stringify(flow)}`);
});

test('plain HTTP to the TLS port is refused', async () => {
  const page = await browser.newPage();
  await assert.rejects(page.goto(origin.replace('https:', 'http:')), /net::ERR_/);
});
