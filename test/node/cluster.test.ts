// Several nodes: PostgreSQL + Redis + three `src/server/main.ts` nodes + HAProxy (deploy/haproxy.cfg), all started
// here on 127.0.0.1. Clients speak the PeerJS wire protocol (as the SDK's PeerJS does) directly to chosen nodes, or
// through the load balancer when a node goes away.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { mintUserToken } from '../../src/server/auth/tokens.js';
import { MAX_DEVICES_PER_USER } from '../../src/core/devices.js';
import { clusterMissing, startLocalCluster, type LocalCluster, type LocalNode } from '../../src/server/cluster/local.js';
import { eventually, sleep } from './server-support.js';

type Message = { type: string; src?: string; dst?: string; payload?: unknown };

/** A PeerJS-protocol client on one base URL. `reconnect: true` comes back by itself the way the SDK does. */
class WirePeer {
  readonly inbox: Message[] = [];
  ws!: WebSocket;
  opened = 0;
  closeCodes: number[] = [];
  private stopped = false;

  constructor(readonly id: string, private base: string, private readonly secret: string, private readonly reconnect = false) {}

  static async open(id: string, base: string, secret: string, reconnect = false): Promise<WirePeer> {
    const p = new WirePeer(id, base, secret, reconnect);
    const first = await p.connect();
    if (first?.type !== 'OPEN') throw new Error(`${id} refused: ${JSON.stringify(first)}`);
    return p;
  }

  /** Opens a socket with a fresh token; resolves with the server's first message. */
  async connect(token?: string): Promise<Message | undefined> {
    const t = token ?? (await mintUserToken(this.secret, this.id.split(' ')[0]!)).token;
    const q = new URLSearchParams({ key: 'peerjs', id: this.id, token: t, version: '1.5.5' });
    const ws = new WebSocket(`${this.base.replace('http', 'ws')}/peerjs/peerjs?${q}`);
    this.ws = ws;
    ws.on('error', () => undefined);
    const first = await new Promise<Message | undefined>((resolve) => {
      ws.once('message', (d) => resolve(JSON.parse(d.toString()) as Message));
      ws.once('close', () => resolve(undefined));
    });
    if (first?.type === 'OPEN') this.opened++;
    ws.on('message', (d) => this.inbox.push(JSON.parse(d.toString()) as Message));
    ws.once('close', (code) => {
      this.closeCodes.push(code);
      if (this.reconnect && !this.stopped && first?.type === 'OPEN') void this.comeBack();
    });
    return first;
  }

  /** The SDK's schedule: 250 ms doubling, fresh token each time. */
  private async comeBack(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      await sleep(250 * 2 ** Math.min(attempt, 5));
      const first = await this.connect().catch(() => undefined);
      if (first?.type === 'OPEN') return;
    }
  }

  send(type: string, dst: string | undefined, payload: unknown): void {
    this.ws.send(JSON.stringify({ type, ...(dst === undefined ? {} : { dst }), payload }));
  }

  waitFor(pred: (m: Message) => boolean, ms = 5000): Promise<Message> {
    return eventually(() => this.inbox.find(pred), ms, `${this.id}: message`);
  }

  close(): void {
    this.stopped = true;
    this.ws.close();
  }
}

function invite(callId: string, from: string, to: string) {
  return { t: 'ce', v: 1, type: 'invite', callId, from, to, callType: 'user', video: false, headers: {} };
}

/** Sends a call's invite (control DataConnection offer) and its media offer. */
function offerCall(from: WirePeer, to: string, callId: string, caller: string, callee: string) {
  const data = `dc_${callId}_${to.replace(/ /g, '_')}`;
  const media = `mc_${callId}_${to.replace(/ /g, '_')}`;
  from.send('OFFER', to, { type: 'data', connectionId: data, sdp: { type: 'offer', sdp: 'x' }, metadata: invite(callId, caller, callee) });
  from.send('OFFER', to, { type: 'media', connectionId: media, sdp: { type: 'offer', sdp: 'x' }, metadata: { callId } });
  return { data, media };
}

const skip = clusterMissing();

describe('a cluster of three nodes behind HAProxy', { skip }, () => {
  let c: LocalCluster;
  const peers: WirePeer[] = [];
  const peer = async (id: string, node: LocalNode | 'lb', reconnect = false) => {
    const p = await WirePeer.open(id, node === 'lb' ? c.lb : node.url, c.secret, reconnect);
    peers.push(p);
    return p;
  };
  const api = async (node: LocalNode, path: string) => {
    const res = await fetch(`${node.url}/api/v1${path}`, { headers: { authorization: `Basic ${Buffer.from(`${c.app.key}:${c.app.secret}`).toString('base64')}` } });
    return { status: res.status, body: await res.json() as Record<string, unknown> };
  };
  /** The node index a peer is signed in on (its claim in Redis). */
  const nodeOf = async (id: string) => (await c.whereIs(id))?.index;
  const live = () => c.nodes.filter((n) => n.process.exitCode === null && n.process.signalCode === null);

  before(async () => {
    c = await startLocalCluster({ nodes: 3, env: { CALL_LOST_GRACE_MS: '6000' } });
  });
  after(async () => {
    for (const p of peers) p.close();
    await c?.stop();
  });

  test('a call between users on different nodes: invite, answer and media answer relayed, one record in PostgreSQL', async () => {
    const [n0, n1, n2] = c.nodes as [LocalNode, LocalNode, LocalNode];
    const alice = await peer('alice', n0);
    const bob = await peer('bob', n1);
    await eventually(async () => ((await api(n0, '/users/online')).body.users as string[]).includes('bob'), 5000, 'bob seen on node 0');
    const { data, media } = offerCall(alice, 'bob', 'x-1', 'alice', 'bob');
    const offer = await bob.waitFor((m) => m.type === 'OFFER');
    assert.equal(offer.src, 'alice', 'the sender is the authenticated peer, as on one node');
    bob.send('ANSWER', 'alice', { type: 'data', connectionId: data, sdp: { type: 'answer', sdp: 'y' } });
    bob.send('CANDIDATE', 'alice', { type: 'data', connectionId: data, candidate: { candidate: 'c' } });
    bob.send('ANSWER', 'alice', { type: 'media', connectionId: media, sdp: { type: 'answer', sdp: 'y' } });
    await alice.waitFor((m) => m.type === 'CANDIDATE' && m.src === 'bob');
    // The record: started on alice's node, established from bob's answer relayed to it, read from a third node.
    const rec = await eventually(async () => { const r = await api(n2, '/calls/x-1'); return r.body.establishedAt ? r.body : undefined; }, 5000, 'established');
    assert.deepEqual([rec.caller, rec.callee, rec.calleePeer], ['alice', 'bob', 'bob']);
    bob.send('CALL-END', undefined, { callId: 'x-1', cause: 'hungUp' });
    const ended = await eventually(async () => { const r = await api(n0, '/calls/x-1'); return r.body.endedAt ? r.body : undefined; }, 5000, 'ended');
    assert.deepEqual([ended.endCause, ended.endedBy], ['hungUp', 'bob']);
  });

  test("a user's call history is the same from every node (shared storage), and only theirs", async () => {
    const [n0, , n2] = c.nodes as [LocalNode, LocalNode, LocalNode];
    const history = async (p: WirePeer, requestId: string) => {
      p.send('CALL-HISTORY', undefined, { requestId });
      const m = await p.waitFor((x) => x.type === 'CALL-HISTORY' && (x.payload as { requestId?: string }).requestId === requestId);
      return ((m.payload as { calls: Array<{ callId: string; direction: string; remote: string }> }).calls).map((e) => [e.callId, e.direction, e.remote]);
    };
    // The call above was recorded by nodes 0 and 1; alice's other device asks node 2, bob's asks node 0.
    assert.deepEqual(await history(await peer('alice hist', n2), 'h1'), [['x-1', 'outgoing', 'bob']]);
    assert.deepEqual(await history(await peer('bob hist', n0), 'h2'), [['x-1', 'incoming', 'alice']]);
    assert.deepEqual(await history(await peer('carl', n2), 'h3'), []);
  });

  test('an invite to nobody gets peer-unavailable (EXPIRE) back; an invite to a user on another node does not', async () => {
    const [n0, n1] = c.nodes as [LocalNode, LocalNode];
    const cleo = await peer('cleo', n0);
    await peer('dan', n1);
    offerCall(cleo, 'nobody-here', 'x-2', 'cleo', 'nobody-here');
    const expire = await cleo.waitFor((m) => m.type === 'EXPIRE');
    assert.equal(expire.src, 'nobody-here');
    offerCall(cleo, 'dan', 'x-3', 'cleo', 'dan');
    await sleep(1500);
    assert.equal(cleo.inbox.filter((m) => m.type === 'EXPIRE').length, 1);
    const rec = (await api(n1, '/calls/x-3')).body;
    assert.equal(rec.endedAt, null, 'not ended as unavailable: the callee is online on another node');
  });

  test('cluster-wide: a used token is refused on another node, an id online on one node is taken on the others', async () => {
    const [n0, n1, n2] = c.nodes as [LocalNode, LocalNode, LocalNode];
    const { token } = await mintUserToken(c.secret, 'erin');
    const erin = new WirePeer('erin', n0.url, c.secret);
    assert.equal((await erin.connect(token))?.type, 'OPEN');
    peers.push(erin);
    const again = new WirePeer('erin 2', n1.url, c.secret);
    const refused = await again.connect(token);
    assert.equal(refused?.type, 'ERROR');
    assert.match(String((refused?.payload as { msg?: string }).msg), /already used/);
    const twin = new WirePeer('erin', n2.url, c.secret);
    assert.equal((await twin.connect())?.type, 'ID-TAKEN');
  });

  test('two devices of one user on two nodes both ring; the device that answers is recorded', async () => {
    const [n0, n1, n2] = c.nodes as [LocalNode, LocalNode, LocalNode];
    const fay = await peer('fay', n0);
    const gus1 = await peer('gus', n1);
    const gus2 = await peer('gus tab', n2);
    // The caller asks which devices the user has (DEVICES), then rings each.
    await eventually(async () => {
      fay.send('DEVICES', undefined, { requestId: 'q1', userId: 'gus' });
      const answer = await fay.waitFor((m) => m.type === 'DEVICES', 1000).catch(() => undefined);
      fay.inbox.length = 0;
      return (answer?.payload as { devices?: string[] } | undefined)?.devices?.length === 2;
    }, 5000, 'both devices listed');
    const one = offerCall(fay, 'gus', 'x-4', 'fay', 'gus');
    const two = offerCall(fay, 'gus tab', 'x-4', 'fay', 'gus');
    await gus1.waitFor((m) => m.type === 'OFFER');
    await gus2.waitFor((m) => m.type === 'OFFER');
    gus1.send('ANSWER', 'fay', { type: 'data', connectionId: one.data, sdp: {} });
    gus2.send('ANSWER', 'fay', { type: 'data', connectionId: two.data, sdp: {} });
    gus2.send('ANSWER', 'fay', { type: 'media', connectionId: two.media, sdp: {} });
    await fay.waitFor((m) => m.type === 'ANSWER' && m.src === 'gus tab' && (m.payload as { type?: string }).type === 'media');
    const rec = await eventually(async () => { const r = await api(n0, '/calls/x-4'); return r.body.establishedAt ? r.body : undefined; }, 5000, 'established');
    assert.equal(rec.calleePeer, 'gus tab');
  });

  test('the per-user device limit counts the devices on every node', async () => {
    const [n0, n1, n2] = c.nodes as [LocalNode, LocalNode, LocalNode];
    for (let i = 0; i < MAX_DEVICES_PER_USER; i++) await peer(`kim d${i}`, i % 2 ? n1 : n0);
    // Node 2 has none of them itself; it learns of the others through Redis.
    await eventually(async () => ((await api(n2, '/users/online')).body.users as string[]).includes('kim'), 5000, 'kim seen on node 2');
    await sleep(300);
    const extra = new WirePeer('kim extra', n2.url, c.secret);
    const refused = await extra.connect();
    assert.equal(refused?.type, 'ERROR');
    assert.match(String((refused?.payload as { msg?: string }).msg), new RegExp(`at most ${MAX_DEVICES_PER_USER} devices`));
    for (const p of peers.filter((x) => x.id.startsWith('kim '))) p.close();
  });

  test('SIGKILL under an established call: both parties are back within 5 s on the other nodes, signalling works, the record closes', async () => {
    const hal = await peer('hal', 'lb', true);
    const ivy = await peer('ivy', 'lb', true);
    const hn = await nodeOf('hal');
    const inn = await nodeOf('ivy');
    assert.notEqual(hn, undefined);
    const { data, media } = offerCall(hal, 'ivy', 'x-5', 'hal', 'ivy');
    await ivy.waitFor((m) => m.type === 'OFFER');
    ivy.send('ANSWER', 'hal', { type: 'data', connectionId: data, sdp: {} });
    ivy.send('ANSWER', 'hal', { type: 'media', connectionId: media, sdp: {} });
    const other = c.nodes.find((n) => n.index !== hn)!;
    await eventually(async () => (await api(other, '/calls/x-5')).body.establishedAt, 5000, 'established');

    const victim = c.nodes[hn!]!;
    // A third party on that node, in a call with a user elsewhere, that never comes back: its record must close.
    const lee = await peer('lee', victim);
    const max = await peer('max', c.nodes.find((n) => n !== victim)!);
    await eventually(async () => ((await api(victim, '/users/online')).body.users as string[]).includes('max'), 5000, 'max seen on lee\'s node');
    const leeCall = offerCall(lee, 'max', 'x-6', 'lee', 'max');
    await max.waitFor((m) => m.type === 'OFFER' && m.src === 'lee');
    max.send('ANSWER', 'lee', { type: 'data', connectionId: leeCall.data, sdp: {} });
    max.send('ANSWER', 'lee', { type: 'media', connectionId: leeCall.media, sdp: {} });
    await eventually(async () => (await api(other, '/calls/x-6')).body.establishedAt, 5000, 'lee-max established');
    const killedAt = Date.now();
    victim.kill('SIGKILL');
    await victim.exited;
    const movers = [hal, ...(inn === hn ? [ivy] : [])];
    await eventually(() => movers.every((p) => p.opened === 2), 5000, 'reconnected within 5 s');
    const back = Date.now() - killedAt;
    for (const p of movers) assert.notEqual(await nodeOf(p.id), hn, `${p.id} is on another node`);
    // Signalling between them works again (the SDK's hang-up and ICE restarts travel this way).
    ivy.inbox.length = 0;
    hal.send('CANDIDATE', 'ivy', { type: 'media', connectionId: media, candidate: { candidate: 'after' } });
    await ivy.waitFor((m) => m.type === 'CANDIDATE' && m.src === 'hal');
    // Every remaining node lists hal and ivy once, and nobody from the dead node's view twice.
    for (const n of live()) {
      await eventually(async () => {
        const online = (await api(n, '/users/online')).body.users as string[];
        return online.includes('hal') && online.includes('ivy') && online.filter((u) => u === 'hal').length === 1;
      }, 5000, `node ${n.index} online list`);
    }
    hal.send('CALL-END', undefined, { callId: 'x-5', cause: 'hungUp' });
    const ended = await eventually(async () => { const r = await api(live()[0]!, '/calls/x-5'); return r.body.endedAt ? r.body : undefined; }, 5000, 'ended');
    assert.equal(ended.endCause, 'hungUp');
    console.log(`# reconnected ${back} ms after SIGKILL`);
    // lee's call: closed by a surviving node once the grace (CALL_LOST_GRACE_MS, 6 s here: longer than a reconnect may take) is over, dated at the death.
    const lost = await eventually(async () => { const r = await api(live()[0]!, '/calls/x-6'); return r.body.endedAt ? r.body : undefined; }, 12_000, 'lee\'s record closed');
    assert.deepEqual([lost.endCause, lost.endedBy], ['signallingLost', 'server']);
    assert.ok(Date.parse(String(lost.endedAt)) <= killedAt + 2_000, `dated when the node was last heard: ${String(lost.endedAt)}`);
  });

  test('SIGTERM drains a node: its clients are told to reconnect and land elsewhere, then it exits', async () => {
    const target = live()[0]!;
    const jo = await peer('jo', target, false);
    // This client came directly to the node; after the drain it comes back through the load balancer.
    (jo as unknown as { base: string }).base = c.lb;
    (jo as unknown as { reconnect: boolean }).reconnect = true;
    target.kill('SIGTERM');
    assert.equal(await eventually(async () => (await fetch(`${target.url}/healthz`).catch(() => undefined))?.status === 503 || undefined, 3000, 'health check fails'), true);
    await eventually(() => jo.opened === 2, 8000, 'jo reconnected');
    assert.ok(jo.closeCodes.includes(1012), `told to reconnect (close codes ${jo.closeCodes.join(',')})`);
    assert.notEqual(await nodeOf('jo'), target.index);
    assert.equal(await target.exited, 0, 'the drained node exits cleanly');
  });
});
