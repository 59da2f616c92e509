// Phone and SIP calls on several nodes: PostgreSQL + Redis + two `src/server/main.ts` nodes + HAProxy, where only node
// 0 runs the gateway (SIP on a free UDP port). Users signed in on node 1 reach sipp through node 0's gateway, and sipp
// calling a user on node 1 through node 0's gateway rings them there. The users are Node WebRTC peers (NodePeer, as
// the gateway tests use) so that the audio can be checked sample by sample.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { GATEWAY_PEER_ID } from '../../src/core/protocol.js';
import { mintUserToken } from '../../src/server/auth/tokens.js';
import { clusterMissing, startLocalCluster, type LocalCluster, type LocalNode } from '../../src/server/cluster/local.js';
import { NodePeer, type PeerSession } from '../../src/server/node-peer/index.js';
import { answerWithTone, echoOfTone, freeUdpPort, loopbackOnly, sippCalls, startSipp } from './gateway-harness.js';
import { eventually, sleep } from './server-support.js';

const skip = clusterMissing() ?? (spawnable('sipp') ? undefined : 'needs sipp (apt-get install sip-tester)');

function spawnable(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => existsSync(`${d}/${cmd}`));
}

describe('the gateway on one node serves users signed in on another', { skip, concurrency: false, timeout: 180_000 }, () => {
  let c: LocalCluster;
  let sipPort: number;
  const peers: NodePeer[] = [];
  const userOn = async (id: string, node: LocalNode) => {
    const p = await NodePeer.start({ id, server: node.url, token: async () => (await mintUserToken(c.secret, id)).token, candidateFilter: loopbackOnly });
    peers.push(p);
    return p;
  };
  const api = async (node: LocalNode, path: string) => {
    const res = await fetch(`${node.url}/api/v1${path}`, { headers: { authorization: `Basic ${Buffer.from(`${c.app.key}:${c.app.secret}`).toString('base64')}` } });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };

  before(async () => {
    sipPort = await freeUdpPort();
    c = await startLocalCluster({ nodes: 2, nodeEnv: (i): Record<string, string> => (i === 0 ? { GATEWAY: 'on', SIP_HOST: '127.0.0.1', SIP_PORT: String(sipPort) } : {}) });
    await eventually(() => /registered as calling-gateway/.test(c.nodes[0]!.log()) || undefined, 60_000, 'the gateway registered on node 0');
    await sleep(1000); // node 1 hears node 0's heartbeat naming its gateway
  });
  after(async () => {
    for (const p of peers) await p.stop().catch(() => undefined);
    await c?.stop();
  });

  test('a SIP call from a user on node 1 (no gateway there) reaches sipp through node 0: answer, audio both ways, hang-up, record', async () => {
    const alice = await userOn('alice', c.nodes[1]!);
    const sipp = await startSipp('answer.xml');
    const callId = `cluster-sip-${process.pid}`;
    const s = alice.call(GATEWAY_PEER_ID, { callId, from: 'alice', to: `bob@127.0.0.1:${sipp.port}`, callType: 'sip', video: false, headers: {} });
    const echo = await echoOfTone(s);
    assert.ok(echo.level > 0.02, `sipp's echo of alice's tone: level ${echo.level.toFixed(3)}`);
    assert.ok(echo.share > 0.3, `440 Hz share ${echo.share.toFixed(2)}`);
    s.hangup('hungUp');
    assert.equal(await sipp.done, 0, 'sipp scenario passed (BYE received)');
    const rec = await eventually(async () => { const r = await api(c.nodes[0]!, `/calls/${callId}`); return r.body.endedAt ? r.body : undefined; }, 5000, 'record ended');
    assert.deepEqual([rec.callType, rec.caller, rec.calleePeer, rec.endCause], ['sip', 'alice', GATEWAY_PEER_ID, 'hungUp']);
    assert.ok(rec.establishedAt, 'established');
  });

  test('sipp calls a user signed in on node 1 through the gateway on node 0: it rings there, answers, sipp hears it and hangs up', async () => {
    const bob = await userOn('bob', c.nodes[1]!);
    const rang = new Promise<PeerSession>((resolve) => bob.once('invite', resolve));
    const { done } = await sippCalls(`127.0.0.1:${sipPort}`, 'bob');
    const inc = await rang;
    assert.equal(inc.invite.callType, 'sip');
    assert.equal(inc.invite.from, 'sip:sipp@127.0.0.1');
    const { end, heardLevel } = await answerWithTone(inc);
    assert.equal(end.cause, 'hungUp');
    assert.equal(end.by, 'remote');
    assert.equal(await done, 0, 'sipp got 180, 200 and the 200 for its BYE');
    assert.ok(heardLevel > 0.02, 'sipp\'s echo of bob\'s tone came back through node 0');
  });
});
