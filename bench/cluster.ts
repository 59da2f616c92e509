// Several nodes (README "Scaling out"): a local cluster (PostgreSQL, Redis, two nodes, HAProxy) and PeerJS-protocol
// clients. In one run: offer-to-callee latency with caller and callee on the same node vs on different nodes
// (interleaved, so both see the same machine load), invites relayed per second across nodes, and memory per peer
// per node (RSS growth of each node while idle peers register on it).
//   node --import tsx bench/cluster.ts     BENCH_CLUSTER_INVITES (400), BENCH_CLUSTER_PEERS (500 per node)
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { mintUserToken } from '../src/server/auth/tokens.js';
import { startLocalCluster, type LocalNode } from '../src/server/cluster/local.js';
import { within } from './deadline.js';

const invites = Number(process.env.BENCH_CLUSTER_INVITES ?? 400);
const idlePeers = Number(process.env.BENCH_CLUSTER_PEERS ?? 500);

type Msg = { type: string; src?: string; payload?: { connectionId?: string } };

async function connect(node: LocalNode, id: string, secret: string, onMessage?: (m: Msg) => void): Promise<WebSocket> {
  const { token } = await mintUserToken(secret, id);
  const ws = new WebSocket(`ws://127.0.0.1:${node.port}/peerjs/peerjs?${new URLSearchParams({ key: 'peerjs', id, token, version: '1.5.5' })}`);
  await within(new Promise<void>((resolve, reject) => {
    ws.once('message', (d) => (JSON.parse(d.toString()).type === 'OPEN' ? resolve() : reject(new Error(`${id} refused`))));
    ws.once('error', reject);
  }), 10_000, `${id} registered`).catch((err: unknown) => { ws.terminate(); throw err; });
  if (onMessage) ws.on('message', (d) => onMessage(JSON.parse(d.toString()) as Msg));
  return ws;
}

function rssKb(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

function pct(sorted: number[], p: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0) * 100) / 100;
}

export async function runClusterBench(): Promise<object> {
  const c = await within(startLocalCluster({ nodes: 2 }), 120_000, 'local cluster start');
  const sockets: WebSocket[] = [];
  try {
    const [n0, n1] = c.nodes as [LocalNode, LocalNode];
    const arrived = new Map<string, number>();
    const waiting = new Map<string, () => void>();
    const onMessage = (m: Msg) => {
      const id = m.payload?.connectionId;
      if (m.type !== 'OFFER' || !id) return;
      arrived.set(id, performance.now());
      waiting.get(id)?.();
    };
    const caller = await connect(n0, 'bench-caller', c.secret);
    const near = await connect(n0, 'bench-near', c.secret, onMessage);
    const far = await connect(n1, 'bench-far', c.secret, onMessage);
    sockets.push(caller, near, far);
    await new Promise((r) => setTimeout(r, 1500)); // presence reaches the other node
    const offer = (dst: string, id: string) => caller.send(JSON.stringify({
      type: 'OFFER', dst, payload: { type: 'media', connectionId: id, sdp: { type: 'offer', sdp: 'x' }, metadata: { callId: id } },
    }));
    // Woken by the arrival itself: a polling loop here would take a core from the nodes and Redis it measures.
    const wait = async (id: string) => {
      if (!arrived.has(id)) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, 5000);
          waiting.set(id, () => { clearTimeout(timer); resolve(); });
        });
        waiting.delete(id);
      }
      return arrived.get(id);
    };
    // Latency: one invite at a time, alternating same-node and cross-node.
    const lat = { same: [] as number[], cross: [] as number[] };
    for (let i = 0; i < invites; i++) {
      const cross = i % 2 === 1;
      const id = `lat-${i}`;
      const t0 = performance.now();
      offer(cross ? 'bench-far' : 'bench-near', id);
      const t1 = await wait(id);
      if (t1 !== undefined) (cross ? lat.cross : lat.same).push(t1 - t0);
    }
    lat.same.sort((a, b) => a - b);
    lat.cross.sort((a, b) => a - b);
    // Throughput: a burst of invites to each callee, timed until the last one arrives.
    const burst = async (dst: string, tag: string) => {
      const t0 = performance.now();
      for (let i = 0; i < invites; i++) offer(dst, `${tag}-${i}`);
      await wait(`${tag}-${invites - 1}`);
      let got = 0;
      for (let i = 0; i < invites; i++) if (arrived.has(`${tag}-${i}`)) got++;
      return { delivered: got, perSecond: Math.round((got / (performance.now() - t0)) * 1000) };
    };
    const sameBurst = await burst('bench-near', 'bs');
    const crossBurst = await burst('bench-far', 'bc');
    // Memory: idle peers registering on each node.
    const before = c.nodes.map((n) => rssKb(n.process.pid!));
    for (const node of c.nodes) {
      for (let i = 0; i < idlePeers; i++) sockets.push(await connect(node, `idle${node.index}x${i}`, c.secret));
    }
    await new Promise((r) => setTimeout(r, 2000));
    const after = c.nodes.map((n) => rssKb(n.process.pid!));
    const p50Same = pct(lat.same, 0.5);
    const p50Cross = pct(lat.cross, 0.5);
    return {
      nodes: c.nodes.length,
      offerToCalleeMs: {
        sameNode: { p50: p50Same, p95: pct(lat.same, 0.95), n: lat.same.length },
        crossNode: { p50: p50Cross, p95: pct(lat.cross, 0.95), n: lat.cross.length },
        ratioP50CrossToSame: p50Same > 0 ? Math.round((p50Cross / p50Same) * 100) / 100 : null,
      },
      invitesPerSecond: { sameNode: sameBurst, crossNode: crossBurst },
      memoryPerPeerKb: c.nodes.map((n, i) => ({ node: n.index, peers: idlePeers, kbPerPeer: Math.round(((after[i]! - before[i]!) / idlePeers) * 10) / 10 })),
    };
  } finally {
    for (const s of sockets) s.terminate();
    await c.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await runClusterBench(), null, 2));
  process.exit(0);
}
