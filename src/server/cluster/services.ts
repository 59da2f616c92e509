/**
 * Calls to a service (the gateway `calling-gateway`, the conference service `calling-conference`) when every node may
 * run one of each: which node's service gets a call, and how its signalling gets there and back.
 *
 * - A client's call to a service starts with the OFFER of its call-control DataConnection, whose invite names the
 *   call. That decides the call's node: for a conference the node hosting the room (`ce:room:<room>` in Redis,
 *   claimed by the first join: this node when it runs a conference service, else any node that does), for a phone or
 *   SIP call this node's gateway when it runs one, else any node's gateway that is up. The call's other connection
 *   (the MediaConnection, same `callId` in its metadata) and every later message of both connections follow it.
 *   Messages that arrive while the node is being looked up wait, in order.
 * - A service calling a client (a REST callout into a room, an incoming SIP call) reaches it through the normal relay;
 *   the client's replies on that connection go back to the node the service is on (`learn`).
 * - A node that dies takes its services' calls with it: each client of this node whose call a service there held
 *   hears `LEAVE` from that service (PeerJS closes its connections to it, the SDK ends the call as `failure`,
 *   `connection-lost` or `media-closed`, within a second instead of waiting for ICE to give up), and the calls are
 *   handed to `onNodeDown` so their records are closed. Every node also notes its clients' service calls in Redis
 *   under the serving node (`ce:svc:<node>`), so that one surviving node can end the calls a dead node's services
 *   held whose clients were on the dead node too (see `records.ts`).
 */
import { CONFERENCE_PEER_ID, parseControlMessage } from '../../core/protocol.js';
import { assertConferenceId } from '../../core/validation.js';

type Message = { type: string; src?: string; dst?: string; payload?: unknown };

export interface ServiceRouterHost {
  readonly nodeId: string;
  /** Where a new call for `service` goes (see `Cluster.pickNode`). */
  pick(service: string): string;
  /** The node hosting a conference room, claimed for `candidate` when none is. */
  claimRoom(room: string, candidate: string): Promise<string>;
  sendTo(node: string, dst: string, message: Message): void;
  deliverLocal(dst: string, message: Message): boolean;
  /** A call of `peer` is served by `service` on `node` (kept in Redis, for when that node dies). */
  remember(node: string, call: ServiceCall): void;
  /** The call ended: no longer kept. */
  forget(node: string, call: Omit<ServiceCall, 'service'>): void;
}

/** A call of one of this node's clients that a service on another node held. */
export interface ServiceCall {
  peer: string;
  service: string;
  callId: string;
}

interface Route {
  node: string;
  service: string;
  callId?: string;
  used: number;
}

/** Routes unused for this long are forgotten (a call's connections carry no signalling once set up). */
const ROUTE_IDLE_MS = 12 * 3600_000;
/** A media offer whose call-control offer has not been seen waits this long for it, then goes to this node. */
const MEDIA_WAIT_MS = 2_000;

export class ServiceRouter {
  /** `<peer>\n<connectionId>` → the node whose service that connection talks to. */
  private readonly routes = new Map<string, Route>();
  /** `<peer>\n<callId>` → the node of that call's service (a promise while Redis is asked). */
  private readonly calls = new Map<string, { node: string | Promise<string>; used: number }>();
  /** Media offers waiting for their call's control offer: `<peer>\n<callId>` → resume. */
  private readonly waiting = new Map<string, Array<(node: string | Promise<string>) => void>>();
  /** Messages of a connection whose node is being decided, in order. */
  private readonly held = new Map<string, Message[]>();

  constructor(private readonly host: ServiceRouterHost) {}

  /**
   * A client's (or a service's) message for a service, before PeerServer sees it: true when it was taken care of
   * here (sent to another node, or held), false when PeerServer should hand it to this node's service.
   */
  route(src: string, message: Message): boolean {
    const service = message.dst!;
    const payload = isObject(message.payload) ? message.payload : {};
    const connectionId = payload.connectionId;
    if (typeof connectionId !== 'string') return false;
    const key = `${src}\n${connectionId}`;
    const copy = { ...message, src };
    const held = this.held.get(key);
    if (held) {
      held.push(copy);
      return true;
    }
    const known = this.routes.get(key);
    if (known) {
      known.used = Date.now();
      if (known.node === this.host.nodeId) return false;
      this.host.sendTo(known.node, service, copy);
      return true;
    }
    if (message.type !== 'OFFER') return false; // a reply to this node's service
    const decided = this.decide(src, service, payload);
    if (!decided) return false;
    const { node, callId } = decided;
    if (typeof node === 'string') {
      this.setRoute(key, { node, service, ...(callId ? { callId } : {}), used: Date.now() });
      if (node === this.host.nodeId) return false;
      this.host.sendTo(node, service, copy);
      return true;
    }
    const queue = [copy];
    this.held.set(key, queue);
    const settle = (to: string) => {
      this.held.delete(key);
      this.setRoute(key, { node: to, service, ...(callId ? { callId } : {}), used: Date.now() });
      for (const m of queue) {
        if (to === this.host.nodeId) this.host.deliverLocal(service, m);
        else this.host.sendTo(to, service, m);
      }
    };
    node.then(settle, () => settle(this.host.nodeId));
    return true;
  }

  /** A service on `node` sent `message` to this node's client `peer`: the client's replies on it go back there. */
  learn(peer: string, service: string, message: Message, node: string): void {
    const connectionId = isObject(message.payload) ? message.payload.connectionId : undefined;
    if (typeof connectionId !== 'string') return;
    const key = `${peer}\n${connectionId}`;
    const route = this.routes.get(key);
    if (route?.node === node) {
      route.used = Date.now();
      return;
    }
    const callId = message.type === 'OFFER' ? callIdOf(message.payload) : route?.callId;
    this.setRoute(key, { node, service, ...(callId ? { callId } : {}), used: Date.now() });
  }

  private setRoute(key: string, route: Route): void {
    const before = this.routes.get(key);
    this.routes.set(key, route);
    if (route.callId && (before?.node !== route.node || before.callId !== route.callId)) {
      this.host.remember(route.node, { peer: key.slice(0, key.indexOf('\n')), service: route.service, callId: route.callId });
    }
  }

  /** `peer` reported the end of a call (`CALL-END`): a service call it placed is no longer kept in Redis. */
  ended(peer: string, payload: unknown): void {
    const callId = isObject(payload) ? payload.callId : undefined;
    if (typeof callId !== 'string') return;
    const call = this.calls.get(`${peer}\n${callId}`);
    if (typeof call?.node === 'string') this.host.forget(call.node, { peer, callId });
  }

  /** `node` died: forgets its routes and returns the calls of this node's clients its services held (see above). */
  nodeDown(node: string): ServiceCall[] {
    const lost: ServiceCall[] = [];
    const told = new Set<string>();
    for (const [key, route] of this.routes) {
      if (route.node !== node) continue;
      this.routes.delete(key);
      const peer = key.slice(0, key.indexOf('\n'));
      if (route.callId) lost.push({ peer, service: route.service, callId: route.callId });
      const both = `${peer}\n${route.service}`;
      // LEAVE closes every connection the client has with that service id: not when a live node's service holds another.
      if (told.has(both) || [...this.routes].some(([k, r]) => r.service === route.service && r.node !== node && k.startsWith(`${peer}\n`))) continue;
      told.add(both);
      this.host.deliverLocal(peer, { type: 'LEAVE', src: route.service, dst: peer });
    }
    for (const [key, call] of this.calls) if (call.node === node) this.calls.delete(key);
    return lost.filter((c, i) => lost.findIndex((o) => o.callId === c.callId && o.peer === c.peer) === i);
  }

  sweep(now = Date.now()): void {
    for (const map of [this.routes, this.calls] as Array<Map<string, { used: number }>>) {
      for (const [key, entry] of map) if (now - entry.used > ROUTE_IDLE_MS) map.delete(key);
    }
  }

  close(): void {
    for (const resume of this.waiting.values()) for (const r of resume) r(this.host.nodeId);
    this.waiting.clear();
  }

  /** The node for a new connection to `service`, from its OFFER; undefined for offers that are not a call's. */
  private decide(src: string, service: string, payload: Record<string, unknown>): { node: string | Promise<string>; callId?: string } | undefined {
    if (payload.type === 'data') {
      const invite = parseControlMessage(payload.metadata);
      if (invite?.type !== 'invite') return undefined;
      const node = service === CONFERENCE_PEER_ID && invite.callType === 'conference' && isRoomId(invite.to)
        ? this.host.claimRoom(invite.to, this.host.pick(service))
        : this.host.pick(service);
      const callKey = `${src}\n${invite.callId}`;
      this.calls.set(callKey, { node, used: Date.now() });
      if (typeof node !== 'string') void node.then((n) => { const c = this.calls.get(callKey); if (c?.node === node) c.node = n; }, () => undefined);
      for (const resume of this.waiting.get(callKey) ?? []) resume(node);
      this.waiting.delete(callKey);
      return { node, callId: invite.callId };
    }
    const callId = callIdOf(payload);
    if (!callId) return undefined;
    const callKey = `${src}\n${callId}`;
    const call = this.calls.get(callKey);
    if (call) {
      call.used = Date.now();
      return { node: call.node, callId };
    }
    // The media offer overtook its call-control offer: wait for it.
    return {
      callId,
      node: new Promise<string>((resolve) => {
        const timer = setTimeout(() => {
          this.waiting.delete(callKey);
          resolve(this.host.nodeId);
        }, MEDIA_WAIT_MS);
        timer.unref();
        const list = this.waiting.get(callKey) ?? [];
        list.push((n) => {
          clearTimeout(timer);
          void Promise.resolve(n).then(resolve, () => resolve(this.host.nodeId));
        });
        this.waiting.set(callKey, list);
      }),
    };
  }
}

function callIdOf(payload: unknown): string | undefined {
  if (!isObject(payload)) return undefined;
  if (payload.type === 'data') {
    const invite = parseControlMessage(payload.metadata);
    return invite?.callId;
  }
  const meta = payload.metadata;
  return isObject(meta) && typeof meta.callId === 'string' ? meta.callId : undefined;
}

function isRoomId(id: string): boolean {
  try {
    assertConferenceId(id);
    return true;
  } catch {
    return false; // the service refuses it
  }
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}
