#!/usr/bin/env node
// `npm run cluster`: PostgreSQL + Redis + three server nodes + HAProxy on 127.0.0.1 (see README "Scaling out").
// NODES=n changes the node count, LB_PORT the load balancer's port (default 9000). Ctrl-C stops everything.
import { register } from 'tsx/esm/api';

register();
const { clusterMissing, startLocalCluster } = await import('../src/server/cluster/local.ts');
const missing = clusterMissing();
if (missing) {
  console.error(`npm run cluster ${missing} (apt-get install postgresql redis-server haproxy).`);
  process.exit(1);
}
// Every node runs a conference service (a room lives on one, joins from any node reach it); node 0 runs the gateway
// (SIP on SIP_PORT, default any free port), which serves phone / SIP calls of users on every node.
const c = await startLocalCluster({
  nodes: Number(process.env.NODES ?? 3), lbPort: Number(process.env.LB_PORT ?? 9000),
  // The demo signs in with /dev/token (loopback only), from any node: they share one secret.
  env: { CONFERENCE: 'on', CALLING_DEV_TOKENS: '1' },
  nodeEnv: (i) => (i === 0 ? { GATEWAY: 'on', SIP_PORT: process.env.SIP_PORT ?? '0' } : {}),
});
console.log(`Load balancer: ${c.lb}  (demo at /, signalling on /peerjs)`);
for (const n of c.nodes) console.log(`  node ${n.index}: ${n.url}  pid ${n.process.pid}${n.index === 0 ? '  (gateway)' : ''}`);
console.log(`Redis: ${c.redis.url}   PostgreSQL: ${c.postgres.url}`);
console.log(`REST keys: app ${c.app.key}:${c.app.secret}   admin ${c.admin.key}:${c.admin.secret}`);
console.log('Try: kill -9 one node pid and watch its clients reconnect to the others (kill -9 -<pid> takes its conference and');
console.log('gateway children too, as when a machine dies). Ctrl-C stops everything.');
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void c.stop().then(() => process.exit(0)));
