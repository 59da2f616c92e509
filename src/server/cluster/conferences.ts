/**
 * The conference REST API on several nodes: a room lives on one node's conference service (`ce:room:<room>`, see
 * `services.ts`), so `/api/v1/conferences/…` on any node acts on that one. Room operations run on the hosting node
 * through a cluster request; `POST …/participants` for a room nobody hosts claims it (this node's service when it
 * runs one); the room list is every node's rooms.
 */
import { CONFERENCE_PEER_ID } from '../../core/protocol.js';
import { ConferenceError, type ConferenceBackend } from '../conference/types.js';
import type { Cluster } from './cluster.js';

type Method = 'getRoom' | 'listRooms' | 'addParticipant' | 'setMuted' | 'removeParticipant' | 'endRoom';
const METHODS: readonly Method[] = ['getRoom', 'listRooms', 'addParticipant', 'setMuted', 'removeParticipant', 'endRoom'];

/** Answers other nodes' requests for this node's conference service (`local`). */
export function serveConferences(cluster: Cluster, local: () => ConferenceBackend | undefined): void {
  for (const method of METHODS) {
    cluster.handle(`conference.${method}`, async (args) => {
      const backend = local();
      if (!backend) throw new ConferenceError('service-unavailable', 'The conference service is not running.');
      return (backend[method] as (...a: unknown[]) => Promise<unknown>)(...args);
    });
  }
}

/**
 * The backend the REST routes use on a node of several: undefined (503) only when no node runs a conference service.
 */
export function clusterConferences(cluster: Cluster, local: () => ConferenceBackend | undefined): () => ConferenceBackend | undefined {
  const run = async <T>(node: string, method: Method, args: unknown[]): Promise<T> => {
    if (node === cluster.nodeId) {
      const backend = local();
      if (!backend) throw new ConferenceError('service-unavailable', 'The conference service is not running.');
      return (backend[method] as (...a: unknown[]) => Promise<T>)(...args);
    }
    try {
      return await cluster.request(node, `conference.${method}`, args) as T;
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      throw new ConferenceError(ConferenceError.isCode(code) ? code : 'service-unavailable', err instanceof Error ? err.message : String(err));
    }
  };
  // A room nobody hosts is not found anywhere: this node answers as one node would.
  const hosting = async (room: string) => (await cluster.roomNode(room)) ?? cluster.nodeId;
  const backend: ConferenceBackend = {
    getRoom: async (room) => run(await hosting(room), 'getRoom', [room]),
    listRooms: async () => {
      const lists = await Promise.all(cluster.nodesWith(CONFERENCE_PEER_ID).map((n) => run<Awaited<ReturnType<ConferenceBackend['listRooms']>>>(n, 'listRooms', []).catch(() => [])));
      return lists.flat();
    },
    addParticipant: async (room, target, options = {}) => run(await cluster.claimRoom(room), 'addParticipant', [room, target, options]),
    setMuted: async (room, pid, muted) => run(await hosting(room), 'setMuted', [room, pid, muted]),
    removeParticipant: async (room, pid) => run(await hosting(room), 'removeParticipant', [room, pid]),
    endRoom: async (room) => run(await hosting(room), 'endRoom', [room]),
  };
  return () => (local() || cluster.nodesWith(CONFERENCE_PEER_ID).length ? backend : undefined);
}
