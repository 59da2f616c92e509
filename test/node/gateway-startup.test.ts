// A call placed while the gateway (re)starts must go through: 20 fresh servers, each with a gateway that starts as
// the call is placed. Calls that reach the signalling server while the gateway is not yet registered are queued by
// PeerServer and delivered in the same read as the gateway's OPEN; they used to be answered by PeerJS and never seen
// by the gateway (the browser stayed `progressing`, no INVITE left, `noAnswer` after 45 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCallingServer } from '../../src/server/calling-server.js';
import { Gateway } from '../../src/server/gateway/gateway.js';
import { NodePeer, type PeerSession, type SessionEnd } from '../../src/server/node-peer/index.js';
import { GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { loopbackOnly, startSipp } from './gateway-harness.js';

const RUNS = 20;

function outcome(s: PeerSession, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(`still ${s.ended ? 'ended' : 'waiting'} after ${ms} ms`), ms);
    s.once('answer', () => { clearTimeout(t); resolve('answered'); });
    s.once('end', (e: SessionEnd) => { clearTimeout(t); resolve(`ended ${e.cause} ${e.error?.message ?? ''}`); });
  });
}

test(`${RUNS} fresh starts, each with a SIP call placed as the gateway registers: ${RUNS}/${RUNS} answered`, { timeout: 240_000 }, async () => {
  const results: string[] = [];
  for (let i = 0; i < RUNS; i++) {
    // PeerServer's default expiry (5 s) instead of the server's 0.5 s: a call placed before the gateway is up must
    // still be queued when it registers on a slow machine, so every run exercises the start-up window.
    const server = await startCallingServer({ port: 0, serveDemo: false, expireTimeout: 5000 });
    const id = `starter${i}`;
    const caller = await NodePeer.start({ id, server: server.url, token: () => server.mintToken(id), candidateFilter: loopbackOnly });
    const sipp = await startSipp('answer.xml');
    const logs: string[] = [];
    let gateway: Gateway | undefined;
    try {
      const startGateway = () => Gateway.start({
        server: server.url, token: () => server.mintToken(GATEWAY_PEER_ID), sipHost: '127.0.0.1', sipPort: 0,
        candidateFilter: loopbackOnly, maxCallsPerMinute: 1000, log: (m) => logs.push(m),
      });
      const place = () => caller.call(GATEWAY_PEER_ID, {
        callId: `startup-${process.pid}-${i}`, from: id, to: `x@127.0.0.1:${sipp.port}`, callType: 'sip', video: false, headers: { 'x-a': '1' },
      });
      let session: PeerSession;
      if (i % 2 === 0) {
        // The call reaches the server first (a browser calling while the supervisor restarts the gateway).
        session = place();
        gateway = await startGateway();
      } else {
        // The call right after registration (a user signing in as soon as the gateway is up).
        gateway = await startGateway();
        session = place();
      }
      const result = await outcome(session, 10_000);
      results.push(result);
      assert.equal(result, 'answered', `run ${i}: ${result}\n${logs.join('\n')}\nsipp: ${sipp.messages().slice(0, 400)}`);
      assert.ok(logs.some((l) => /INVITE sent/.test(l)) && logs.some((l) => /provisional 180/.test(l)) && logs.some((l) => /final 200/.test(l)),
        `the gateway logs each step of the call:\n${logs.join('\n')}`);
      session.hangup('hungUp');
      assert.equal(await sipp.done, 0, 'sipp got the INVITE, the ACK and our BYE');
    } finally {
      sipp.stop();
      await caller.stop();
      await gateway?.stop();
      await server.close();
    }
  }
  assert.equal(results.filter((r) => r === 'answered').length, RUNS);
});
