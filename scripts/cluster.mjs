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
const c = await startLocalCluster({ nodes: Number(process.env.NODES ?? 3), lbPort: Number(process.env.LB_PORT ?? 9000) });
console.log(`Load balancer: ${c.lb}  (demo at /, signalling on /peerjs)`);
for (const n of c.nodes) console.log(`  node ${n.index}: ${n.url}  pid ${n.process.pid}`);
console.log(`Redis: ${c.redis.url}   PostgreSQL: ${c.postgres.url}`);
console.log(`REST keys: app ${c.app.key}:${c.app.secret}   admin ${c.admin.key}:${c.admin.secret}`);
console.log('Try: kill -9 one node pid and watch its clients reconnect to the others. Ctrl-C stops everything.');
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void c.stop().then(() => process.exit(0)));
