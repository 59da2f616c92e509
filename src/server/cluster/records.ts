/**
 * Call records a dead node leaves open. The node's own recorder would have ended its clients' calls as
 * `signallingLost` once a client stayed away for the grace time, and its services (gateway, conference) would have
 * reported the end of the calls they held; with the node gone, the surviving nodes do both:
 *
 * - calls of other nodes' clients that a service on the dead node held end at once, as `failure` (the service
 *   stopped), on the node of each client (which routed them there, see `services.ts`);
 * - one surviving node (the first to ask Redis) ends every call the dead node's services held at once (`ce:svc:<node>`,
 *   see `services.ts`), as `failure`, telling their clients wherever they are (or when they are back), and after
 *   `graceMs` the open calls of the dead node's clients that are signed in nowhere, as `signallingLost`; both dated
 *   when the node was last heard.
 */
import { userOfPeer } from '../../core/devices.js';
import type { CallingStorage } from '../storage/store.js';
import type { Cluster, NodeLoss } from './cluster.js';

export function closeDeadNodeCalls(store: CallingStorage, cluster: Cluster, node: string, lost: NodeLoss, options: { graceMs: number; onError: (err: unknown) => void }): void {
  const at = lost.lastSeen;
  void (async () => {
    for (const c of lost.serviceCalls) {
      await store.callEnded(c.callId, { at, cause: 'failure', error: `the ${c.service} service's node ${node} stopped`, endedBy: 'server' });
    }
  })().catch(options.onError);
  void (async () => {
    if (!(await cluster.firstTo(`reap:${node}`, 10 * 60_000))) return;
    const ended = new Set<string>();
    const end = async (callId: string, cause: 'signallingLost' | 'failure', error: string) => {
      if (ended.has(callId)) return;
      ended.add(callId);
      await store.callEnded(callId, { at, cause, error, endedBy: 'server' });
    };
    // Every call its services held: the clients hear it (now, or when they are back), the records close.
    for (const c of await cluster.takeServiceCalls(node)) {
      cluster.tellServiceGone(c.peer, c.service);
      await end(c.callId, 'failure', `the ${c.service} service's node ${node} stopped`);
    }
    await new Promise((r) => setTimeout(r, options.graceMs).unref());
    const online = new Set(cluster.onlinePeers().map(userOfPeer));
    for (const peer of lost.peers) {
      if (cluster.isOnline(peer)) continue;
      const user = userOfPeer(peer);
      for (const call of [...await store.openCallsOf(peer), ...(user === peer ? [] : await store.openCallsOf(user))]) {
        // The callee device that took it, or the caller when none of the caller's devices is signed in anywhere.
        if (call.calleePeer === peer || (call.caller === user && !online.has(user))) await end(call.callId, 'signallingLost', `${peer} left with node ${node}`);
      }
    }
  })().catch(options.onError);
}
