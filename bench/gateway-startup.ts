// The gateway start-up window (issue: calls placed while the gateway (re)starts used to stall until noAnswer):
// BENCH_GATEWAY_STARTS fresh servers (default 20), each with a SIP call placed as its gateway starts — every other one
// before the gateway registers (queued by the signalling server), the others right after. Reports how many were
// answered and how long from the gateway's start to the answer.
import { startCallingServer } from '../src/server/calling-server.js';
import { Gateway } from '../src/server/gateway/gateway.js';
import { NodePeer, type PeerSession } from '../src/server/node-peer/index.js';
import { GATEWAY_PEER_ID } from '../src/core/protocol.js';
import { loopbackOnly, startSipp } from '../test/node/gateway-harness.js';

const ANSWER_WITHIN_MS = 10_000;

export async function runStartupFigures(): Promise<object> {
  const runs = Number(process.env.BENCH_GATEWAY_STARTS ?? 20);
  const answeredMs: number[] = [];
  const failures: string[] = [];
  for (let i = 0; i < runs; i++) {
    const server = await startCallingServer({ port: 0, host: '127.0.0.1', serveDemo: false, expireTimeout: 5000 });
    const id = `benchstart${i}`;
    let caller: NodePeer | undefined;
    let gateway: Gateway | undefined;
    const sipp = await startSipp('answer.xml');
    try {
      caller = await NodePeer.start({ id, server: server.url, token: () => server.mintToken(id), candidateFilter: loopbackOnly });
      const c = caller;
      const place = () => c.call(GATEWAY_PEER_ID, { callId: `benchstart-${process.pid}-${i}`, from: id, to: `x@127.0.0.1:${sipp.port}`, callType: 'sip', video: false, headers: {} });
      const start = () => Gateway.start({ server: server.url, token: () => server.mintToken(GATEWAY_PEER_ID), sipHost: '127.0.0.1', sipPort: 0, candidateFilter: loopbackOnly, maxCallsPerMinute: 1000 });
      const t0 = performance.now();
      let session: PeerSession;
      if (i % 2 === 0) {
        session = place();
        gateway = await start();
      } else {
        gateway = await start();
        session = place();
      }
      const result = await new Promise<string>((resolve) => {
        const timer = setTimeout(() => resolve(`not answered within ${ANSWER_WITHIN_MS} ms`), ANSWER_WITHIN_MS);
        session.once('answer', () => { clearTimeout(timer); resolve('answered'); });
        session.once('end', (e) => { clearTimeout(timer); resolve(`ended ${e.cause}`); });
      });
      if (result === 'answered') answeredMs.push(Math.round(performance.now() - t0));
      else failures.push(`start ${i + 1}: ${result}`);
      session.hangup('hungUp');
    } catch (err) {
      failures.push(`start ${i + 1}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      sipp.stop();
      await caller?.stop();
      await gateway?.stop();
      await server.close();
    }
  }
  const sorted = [...answeredMs].sort((a, b) => a - b);
  return {
    freshStarts: runs,
    answered: answeredMs.length,
    gatewayStartToAnswerMs: { median: sorted[Math.floor(sorted.length / 2)] ?? null, max: sorted.at(-1) ?? null },
    ...(failures.length ? { failures } : {}),
    note: 'each a new server and gateway; the SIP call placed before the gateway registers (even starts) or right after (odd)',
  };
}
