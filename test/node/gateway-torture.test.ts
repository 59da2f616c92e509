// What any SIP scanner sends within minutes of a port opening: the RFC 4475 torture messages (test/fixtures/
// sip-torture), INVITEs for users who are not online, and INVITEs whose caller fields would be hostile in a browser.
// The gateway runs as `npm start` runs it (a supervised child process); afterwards it must still be the same process,
// still registered, placing and taking calls.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { startGatewayProcess, type GatewayProcess } from '../../src/server/gateway/launcher.js';
import { NodePeer, type PeerSession, type SessionEnd } from '../../src/server/node-peer/index.js';
import { GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { freeUdpPort, loopbackOnly, once, sleep, startSipp } from './gateway-harness.js';

const TORTURE = fileURLToPath(new URL('../fixtures/sip-torture/', import.meta.url));

let server: CallingServer;
let gateway: GatewayProcess;
let sip: { host: string; port: number };
const logs: string[] = [];

before(async () => {
  server = await startCallingServer({ port: 0, serveDemo: false });
  gateway = startGatewayProcess({
    server: server.url,
    mintToken: () => server.mintToken(GATEWAY_PEER_ID),
    env: { ...process.env, SIP_HOST: '127.0.0.1', SIP_PORT: '0', GATEWAY_LOOPBACK_ONLY: '1', SIP_CALLS_PER_MINUTE: '1000' },
    log: (m) => logs.push(m),
  });
  sip = await gateway.ready;
});
after(async () => {
  await gateway?.stop();
  await server?.close();
});

async function peer(id: string): Promise<NodePeer> {
  return NodePeer.start({ id, server: server.url, token: () => server.mintToken(id), candidateFilter: loopbackOnly });
}

function invite(user: string, callId: string, from: string, extra: string[]): Uint8Array {
  const sdp = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n';
  return new Uint8Array(Buffer.from([
    `INVITE sip:${user}@${sip.host}:${sip.port} SIP/2.0`, `Via: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bK${callId};rport`,
    `From: ${from};tag=t${callId}`, `To: <sip:${user}@${sip.host}>`, `Call-ID: ${callId}`, 'CSeq: 1 INVITE', 'Max-Forwards: 70',
    `Contact: <sip:scanner@127.0.0.1:9>`, ...extra, 'Content-Type: application/sdp', `Content-Length: ${Buffer.byteLength(sdp)}`, '', sdp,
  ].join('\r\n')));
}

test('the RFC 4475 set and hostile INVITEs sprayed at the SIP port: same gateway process, still placing and taking calls', { timeout: 120_000 }, async () => {
  const pid = gateway.pid;
  const bob = await peer(`bob${process.pid}`);
  const alice = await peer(`alice${process.pid}`);
  const spray = createSocket('udp4');
  await new Promise<void>((r) => spray.bind(0, '127.0.0.1', () => r()));
  try {
    // What reaches an online user from hostile caller fields: only what the browser's validators accept.
    const seen: PeerSession[] = [];
    let bothRang!: () => void;
    const rung = new Promise<void>((r) => { bothRang = r; });
    bob.on('invite', (s) => {
      seen.push(s);
      s.deny();
      if (seen.length === 2) bothRang();
    });
    const files = readdirSync(TORTURE).filter((f) => f.endsWith('.sip')).sort();
    assert.ok(files.length >= 45, `the RFC 4475 set is there (${files.length} messages)`);
    const datagrams: Uint8Array[] = files.map((f) => new Uint8Array(readFileSync(`${TORTURE}${f}`)));
    const control = Array.from({ length: 40 }, (_, i) => String.fromCharCode(i));
    datagrams.push(
      invite(bob.id, 'hostile1', `"${'\u202eevil'.repeat(40)}${control.join('')}" <sip:${'a'.repeat(200)}@127.0.0.1>`,
        Array.from({ length: 40 }, (_, i) => `X-Pad-${i}: ${'v'.repeat(200)}`)),
      invite(bob.id, 'hostile2', '"\\"\\\\" <sip:us%22er%3E;x=%3C@[::1]>', ['X-Ok: fine', 'X-Bad\u0001: nope', 'X-Nul: a\u0000b']),
      invite(bob.id, 'hostile3', '<sip:user%00%0d%0aX-Injected:1@127.0.0.1>', []),
      invite('nobody-online-here', 'offline1', '<sip:scanner@127.0.0.1>', []),
      invite('nobody-online-2', 'offline2', '<sip:scanner@127.0.0.1>', []),
    );
    for (const d of datagrams) {
      spray.send(d, sip.port, sip.host);
      await sleep(5);
    }
    // Offline callees end after PeerServer's expiry (≈ 0.6 s); bob's two calls ring (the first call of the process
    // loads WebRTC, seconds on a busy machine).
    await Promise.race([rung, sleep(20_000)]);
    await sleep(1000);
    assert.ok(seen.length >= 2, `bob was rung by the hostile INVITEs (${seen.length})\n${logs.join('\n')}`);
    for (const s of seen) {
      const inv = s.invite;
      assert.match(inv.from, /^sip:[A-Za-z0-9\-_.!~*'()&=+$,;?/%]{1,64}@[A-Za-z0-9.-]+$/, `caller ${JSON.stringify(inv.from)}`);
      assert.ok(inv.displayName === undefined || (inv.displayName.length <= 128 && !/[\u0000-\u001f\u007f]/.test(inv.displayName)), `display name ${JSON.stringify(inv.displayName)}`);
      const bytes = Object.entries(inv.headers).reduce((n, [k, v]) => n + Buffer.byteLength(k + v), 0);
      assert.ok(bytes <= 1024, `headers take ${bytes} bytes`);
      for (const [k, v] of Object.entries(inv.headers)) assert.ok(/^x-/i.test(k) && !/[\u0000-\u001f\u007f]/.test(v), `header ${k}`);
    }
    const okHeader = seen.flatMap((s) => Object.entries(s.invite.headers)).find(([k]) => k.toLowerCase() === 'x-ok');
    assert.equal(okHeader?.[1], 'fine', 'a clean header still travels');
    assert.equal(gateway.pid, pid, 'the gateway was not restarted');
    assert.ok(!logs.some((l) => /signalling lost|reconnect failed|destroyed|uncaught/.test(l)), `no signalling trouble:\n${logs.filter((l) => /signal|reconnect|uncaught/.test(l)).join('\n')}`);

    // A normal SIP call from the app still works...
    const sipp = await startSipp('answer.xml');
    const out = alice.call(GATEWAY_PEER_ID, { callId: `after-torture-${process.pid}`, from: alice.id, to: `x@127.0.0.1:${sipp.port}`, callType: 'sip', video: false, headers: { 'x-a': '1' } });
    await once(out, 'answer', 10_000);
    out.hangup('hungUp');
    assert.equal(await sipp.done, 0, 'sipp got INVITE, ACK and BYE');

    // ...and so does an incoming SIP call to an app user.
    bob.removeAllListeners('invite');
    const rang = new Promise<PeerSession>((resolve) => bob.once('invite', resolve));
    const [port, mp] = [await freeUdpPort(), await freeUdpPort()];
    const uac = spawn('sipp', [`${sip.host}:${sip.port}`, '-sf', fileURLToPath(new URL('../fixtures/sip/uac-call.xml', import.meta.url)), '-s', bob.id,
      '-i', '127.0.0.1', '-p', String(port), '-mi', '127.0.0.1', '-mp', String(mp), '-rtp_echo', '-m', '1', '-nostdin', '-timeout', '30s', '-timeout_error'], { stdio: 'ignore' });
    const uacDone = new Promise<number | null>((r) => uac.on('exit', (c) => r(c)));
    const inc = await Promise.race([rang, sleep(10_000).then(() => undefined)]);
    if (!inc) uac.kill();
    assert.ok(inc, 'bob rang for the incoming SIP call');
    inc.ringing();
    inc.answer();
    const end = await once<SessionEnd>(inc, 'end', 15_000);
    assert.equal(end.cause, 'hungUp');
    assert.equal(await uacDone, 0, 'sipp got 180, 200 and the 200 for its BYE');
    assert.equal(gateway.pid, pid, 'still the same gateway process');
  } finally {
    spray.close();
    await alice.stop();
    await bob.stop();
  }
});
