/**
 * Several server nodes behind a load balancer, sharing who is online and relaying signalling through Redis
 * (`REDIS_URL`). Without it the server never loads this module.
 *
 * What lives where:
 * - `ce:node:<node>` — the node is alive (TTL `NODE_TTL_MS`, renewed every `BEAT_MS`); a heartbeat on `ce:presence`
 *   goes with each renewal, so every node knows which nodes are alive without polling.
 * - `ce:peer:<peerId>` → node — who holds a peer id (TTL `PEER_TTL_MS`, renewed while its socket lives); a node
 *   claims it atomically before it lets a socket register (`claim`), so one id is online on one node at a time. A
 *   claim held by a dead node counts as free: a crashed node's clients can sign in elsewhere at once.
 * - `ce:peers:<node>` — the set of peer ids a node holds (expires with the node), read by nodes that start later.
 * - Pub/sub `ce:presence` — `+<node> <peer>` / `-<node> <peer>` / `h<node> <services>` (heartbeat, naming the
 *   services — gateway, conference — that run on the node). Every node keeps the whole peer → node map in memory
 *   from it, so routing a message costs no Redis round trip.
 * - Pub/sub `ce:to:<node>` — what one node has for another, batched: everything queued for a node during one turn of
 *   the event loop goes as one PUBLISH `{ f: <from node>, m: [items] }`. An item is a PeerJS or server message for a
 *   peer there (`{ dst, message }`), a request to the node (`{ q }`, e.g. a REST call for a conference room it hosts)
 *   or the answer to one (`{ a }`).
 * - `ce:room:<room>` → node — the node whose conference service hosts a room (see `services.ts`); a claim held by a
 *   dead node counts as free, so a room whose node died is created afresh elsewhere on its next join.
 * - `ce:jti:<jti>` — a used token id (until the token expires): a token used on one node is refused on another.
 * - `ce:rl:<key>` — REST rate-limit buckets.
 *
 * A node that stops hearing Redis (or a node that died) drops the peers it learnt from others after `NODE_TTL_MS`
 * and goes on alone: its own clients still reach each other.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { IClient, IMessage } from 'peer';
import { userOfPeer } from '../../core/devices.js';
import { RESERVED_PEER_IDS } from '../auth/tokens.js';
import { CONFERENCE_PEER_ID as CONFERENCE_SERVICE } from '../../core/protocol.js';
import { ServiceRouter, type ServiceCall } from './services.js';

/** How often a node renews its liveness key and announces itself. */
const BEAT_MS = 500;
/** A node not heard from for this long is dead: its peers are dropped and its claims are free. */
export const NODE_TTL_MS = 2_000;
/** A peer's claim lives this long unless renewed (renewed every `PEER_TTL_MS / 3` while the socket lives). */
const PEER_TTL_MS = 15_000;

/** PeerJS messages relayed to a peer on another node. */
const RELAYED: ReadonlySet<string> = new Set(['OFFER', 'ANSWER', 'CANDIDATE', 'LEAVE', 'EXPIRE']);
/** Messages whose target must hear "unavailable" back when it left before they arrived. */
const NEEDS_TARGET: ReadonlySet<string> = new Set(['OFFER', 'ANSWER', 'CANDIDATE']);

// Claims a peer id for this node unless a live other node holds it. KEYS[1] = ce:peer:<id>; ARGV = node, ttl.
const CLAIM = `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] and redis.call('EXISTS', 'ce:node:' .. cur) == 1 then return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return false`;
// The node hosting a room: the holder when it is alive, else ARGV[1] from now on. KEYS[1] = ce:room:<id>; ARGV = node, ttl.
const CLAIM_ROOM = `
local cur = redis.call('GET', KEYS[1])
if cur and redis.call('EXISTS', 'ce:node:' .. cur) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return cur end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return ARGV[1]`;
/** A room claim outlives the room (a later join with the same id goes to the same node) for this long unused. */
const ROOM_TTL_MS = 24 * 3600_000;
/** How long a request to another node may take. */
const REQUEST_TIMEOUT_MS = 10_000;
// Deletes a claim only if this node still holds it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;
// Token bucket. KEYS[1] = bucket; ARGV = now ms, per second, burst. Returns 0 or the seconds to wait.
const TAKE = `
local b = redis.call('HMGET', KEYS[1], 't', 'at')
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tokens = tonumber(b[1]) or burst
local at = tonumber(b[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) / 1000 * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.max(1, math.ceil((1 - tokens) / rate)) end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return wait`;

export interface ClusterOptions {
  redisUrl: string;
  /** This node's name in Redis (default: random). */
  nodeId?: string;
  /** A relayed message for a local peer was delivered (the call recorder looks at answers from other nodes). */
  onDelivered?: (src: string, message: IMessage) => void;
  /**
   * Another node stopped (crashed, or Redis lost it): `peers` were signed in there; `serviceCalls` are the calls of
   * this node's clients that a gateway or conference service on that node held (their clients were told, see
   * `services.ts`).
   */
  onNodeDown?: (node: string, lost: NodeLoss) => void;
  onError?: (err: unknown) => void;
}

/** What a node that died leaves behind (see `onNodeDown`). */
export interface NodeLoss {
  /** When it was last heard (ms since the epoch). */
  lastSeen: number;
  peers: string[];
  serviceCalls: ServiceCall[];
}

type Message = { type: string; src?: string; dst?: string; payload?: unknown };
interface Envelope {
  dst: string;
  message: Message;
}
/** One item of a batch on `ce:to:<node>`: a message for a peer, a request, or the answer to one. */
type Item = Envelope | { q: { id: number; method: string; args: unknown[] } } | { a: { id: number; ok: boolean; value?: unknown; error?: { code?: string; message: string } } };

/** A request to another node failed there (`code` from the error it threw) or got no answer. */
export class ClusterRequestError extends Error {
  override readonly name = 'ClusterRequestError';
  constructor(message: string, readonly code?: string) {
    super(message);
  }
}

export class Cluster {
  readonly nodeId: string;
  private readonly redis: Redis;
  private readonly sub: Redis;
  /** Local signalling clients by peer id. */
  private readonly local = new Map<string, IClient>();
  /** Peers on other nodes → their node; and user id → those peers. */
  private readonly remote = new Map<string, string>();
  private readonly remoteByUser = new Map<string, Set<string>>();
  /** Other nodes → when they were last heard, and the services they run. */
  private readonly nodes = new Map<string, number>();
  private readonly nodeServices = new Map<string, string[]>();
  /** Items waiting for this turn's PUBLISH, per node. */
  private readonly outbox = new Map<string, Item[]>();
  private flushing = false;
  private nextRequest = 1;
  private readonly requests = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> }>();
  private readonly handlers = new Map<string, (args: unknown[]) => Promise<unknown>>();
  /** LEAVEs for peers that were not signed in when their service's node died (see `tellServiceGone`). */
  private readonly leaves = new Map<string, { services: Set<string>; until: number }>();
  /** Routes clients' calls to the gateway / conference service on the right node. */
  readonly services: ServiceRouter;
  private readonly timers: Array<ReturnType<typeof setInterval>> = [];
  private closed = false;

  private constructor(private readonly options: ClusterOptions) {
    this.nodeId = options.nodeId ?? randomBytes(6).toString('hex');
    const redisOptions = { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, connectionName: `calling-${this.nodeId}` };
    this.redis = new Redis(options.redisUrl, redisOptions);
    this.sub = new Redis(options.redisUrl, { ...redisOptions, maxRetriesPerRequest: null });
    for (const r of [this.redis, this.sub]) r.on('error', () => undefined); // ioredis reconnects by itself
    this.services = new ServiceRouter({
      nodeId: this.nodeId,
      pick: (service) => this.pickNode(service),
      claimRoom: (room, candidate) => this.claimRoom(room, candidate),
      sendTo: (node, dst, message) => this.sendTo(node, dst, message),
      deliverLocal: (dst, message) => this.deliverLocal(dst, message),
      remember: (node, call) => {
        this.redis.multi().hset(`ce:svc:${node}`, `${call.peer}\n${call.callId}`, call.service).pexpire(`ce:svc:${node}`, ROOM_TTL_MS).exec()
          .catch((err: unknown) => this.fail(err));
      },
      forget: (node, call) => { this.redis.hdel(`ce:svc:${node}`, `${call.peer}\n${call.callId}`).catch((err: unknown) => this.fail(err)); },
    });
  }

  /** Connects, learns who is online on the other nodes, and starts announcing this node. */
  static async start(options: ClusterOptions): Promise<Cluster> {
    const c = new Cluster(options);
    await Promise.all([c.redis.connect(), c.sub.connect()]);
    c.sub.on('message', (channel: string, text: string) => c.onChannel(channel, text));
    await c.sub.subscribe('ce:presence', `ce:to:${c.nodeId}`);
    // After a Redis outage: say again who is here (the keys may be gone).
    c.redis.on('ready', () => void c.resync().catch((err: unknown) => c.fail(err)));
    await c.beat();
    const keys = await c.redis.keys('ce:node:*');
    await Promise.all(keys.map((k) => k.slice('ce:node:'.length)).filter((n) => n !== c.nodeId).map((n) => c.learnNode(n)));
    c.timers.push(setInterval(() => void c.beat().catch((err: unknown) => c.fail(err)), BEAT_MS));
    c.timers.push(setInterval(() => c.sweepNodes(), BEAT_MS));
    c.timers.push(setInterval(() => c.services.sweep(), 60_000));
    c.timers.push(setInterval(() => void c.resync().catch((err: unknown) => c.fail(err)), PEER_TTL_MS / 3));
    for (const t of c.timers) t.unref();
    return c;
  }

  // --- presence ---------------------------------------------------------------------------------------------------

  /** Whether `peerId` is signed in on any node. */
  isOnline(peerId: string): boolean {
    return this.local.has(peerId) || this.remote.has(peerId);
  }

  /** Every peer id online in the cluster (services once, from this node). */
  onlinePeers(): string[] {
    return [...new Set([...this.local.keys(), ...this.remote.keys()])];
  }

  /** The live nodes running `service` (a reserved peer id), this one included. */
  nodesWith(service: string): string[] {
    const out = [...this.nodes.keys()].filter((n) => this.nodeServices.get(n)?.includes(service));
    return this.local.has(service) ? [this.nodeId, ...out] : out;
  }

  /** Where a new call for `service` goes: this node when it runs one, else any live node that does, else this one. */
  pickNode(service: string): string {
    if (this.local.has(service)) return this.nodeId;
    const others = this.nodesWith(service);
    return others[Math.floor(Math.random() * others.length)] ?? this.nodeId;
  }

  /**
   * The node whose conference service hosts `room`: the one that claimed it while it is alive, else `candidate`
   * (claimed now). When Redis cannot answer, `candidate`.
   */
  async claimRoom(room: string, candidate = this.pickNode(CONFERENCE_SERVICE)): Promise<string> {
    try {
      return String(await this.redis.eval(CLAIM_ROOM, 1, `ce:room:${room}`, candidate, ROOM_TTL_MS));
    } catch (err) {
      this.fail(err);
      return candidate;
    }
  }

  /** The live node hosting `room`, or undefined when none does (`alive: false`: the node that claimed it last). */
  async roomNode(room: string, alive = true): Promise<string | undefined> {
    try {
      const node = await this.redis.get(`ce:room:${room}`);
      return node && (!alive || node === this.nodeId || this.nodes.has(node)) ? node : undefined;
    } catch (err) {
      this.fail(err);
      return undefined;
    }
  }

  /** The calls `node`'s services held (noted by every node, see `services.ts`), read once: the list is deleted. */
  async takeServiceCalls(node: string): Promise<ServiceCall[]> {
    try {
      const [[, all]] = (await this.redis.multi().hgetall(`ce:svc:${node}`).del(`ce:svc:${node}`).exec()) as [[unknown, Record<string, string>]];
      return Object.entries(all ?? {}).map(([field, service]) => {
        const cut = field.indexOf('\n');
        return { peer: field.slice(0, cut), callId: field.slice(cut + 1), service };
      });
    } catch (err) {
      this.fail(err);
      return [];
    }
  }

  /**
   * Tells `peer` that `service` is gone (PeerJS `LEAVE`: it closes the peer's connections to it), wherever it is
   * signed in; a peer that is not signed in now (its node died with the service) hears it when it is back, within 15 s.
   */
  tellServiceGone(peer: string, service: string): void {
    const message = { type: 'LEAVE', src: service, dst: peer };
    if (this.deliverLocal(peer, message) || this.sendRemote(peer, message)) return;
    const pending = this.leaves.get(peer) ?? { services: new Set<string>(), until: 0 };
    pending.services.add(service);
    pending.until = Date.now() + 15_000;
    this.leaves.set(peer, pending);
  }

  /** `peer` is signed in (here, or on another node): the LEAVEs waiting for it go now. */
  private deliverLeaves(peer: string): void {
    const pending = this.leaves.get(peer);
    if (!pending) return;
    this.leaves.delete(peer);
    // After its OPEN: PeerJS ignores messages for connections it has not reattached yet.
    setTimeout(() => { for (const service of pending.services) this.tellServiceGone(peer, service); }, 200).unref();
  }

  /** True for the first node that asks for `job` within `ttlMs` (e.g. which node closes a dead node's records). */
  async firstTo(job: string, ttlMs: number): Promise<boolean> {
    try {
      return (await this.redis.set(`ce:job:${job}`, this.nodeId, 'PX', ttlMs, 'NX')) === 'OK';
    } catch (err) {
      this.fail(err);
      return true; // alone: do it
    }
  }

  /** The devices of `userId` signed in on other nodes. */
  remoteDevicesOf(userId: string): string[] {
    return [...(this.remoteByUser.get(userId) ?? [])];
  }

  /**
   * Claims `peerId` for this node before its socket registers: false when it is online on another live node
   * ("id already taken", as PeerServer answers within one node). Services (gateway, conference) run one per node
   * under the same id and are not claimed. When Redis cannot answer, the node decides alone.
   */
  async claim(peerId: string): Promise<boolean> {
    if (RESERVED_PEER_IDS.has(peerId)) return true;
    if (this.isDraining) return false;
    try {
      const holder = await this.redis.eval(CLAIM, 1, `ce:peer:${peerId}`, this.nodeId, PEER_TTL_MS);
      return holder === null;
    } catch (err) {
      this.fail(err);
      return !this.remote.has(peerId);
    }
  }

  /** Records a token id as used, cluster-wide: false when it was used before (on any node). */
  async useJti(jti: string, expiresAt: number, local: (jti: string, expiresAt: number) => boolean): Promise<boolean> {
    if (!local(jti, expiresAt)) return false;
    try {
      const ok = await this.redis.set(`ce:jti:${jti}`, this.nodeId, 'PXAT', Math.max(expiresAt, Date.now() + 1000), 'NX');
      return ok === 'OK';
    } catch (err) {
      this.fail(err);
      return true; // Redis is down: this node's own guard has checked it
    }
  }

  onConnection(client: IClient): void {
    const id = client.getId();
    this.local.set(id, client);
    if (this.leaves.size) this.deliverLeaves(id);
    if (RESERVED_PEER_IDS.has(id)) return;
    const multi = this.redis.multi()
      .set(`ce:peer:${id}`, this.nodeId, 'PX', PEER_TTL_MS)
      .sadd(`ce:peers:${this.nodeId}`, id)
      .pexpire(`ce:peers:${this.nodeId}`, NODE_TTL_MS)
      .publish('ce:presence', `+${this.nodeId} ${id}`);
    multi.exec().catch((err: unknown) => this.fail(err));
  }

  onDisconnect(client: IClient): void {
    const id = client.getId();
    if (this.local.get(id) !== client) return;
    this.local.delete(id);
    if (RESERVED_PEER_IDS.has(id)) return;
    const multi = this.redis.multi()
      .eval(RELEASE, 1, `ce:peer:${id}`, this.nodeId)
      .srem(`ce:peers:${this.nodeId}`, id)
      .publish('ce:presence', `-${this.nodeId} ${id}`);
    multi.exec().catch((err: unknown) => this.fail(err));
  }

  // --- relaying ---------------------------------------------------------------------------------------------------

  /**
   * Call last for every PeerServer `message`: a PeerJS message for a peer on another node goes there through Redis,
   * and PeerServer is left with nothing to do (it would queue it for an absent peer and answer EXPIRE).
   */
  onMessage(client: IClient, message: IMessage): void {
    const dst = message.dst;
    if ((message.type as string) === 'CALL-END') this.services.ended(client.getId(), message.payload);
    if (!RELAYED.has(message.type) || typeof dst !== 'string') return;
    // A call to a service (gateway, conference) goes to the node that serves it, which may be another one.
    const handled = RESERVED_PEER_IDS.has(dst) ? this.services.route(client.getId(), message) : !this.local.has(dst) && this.sendRemote(dst, message);
    // PeerServer handles the message after this listener; a HEARTBEAT only marks the sender alive.
    if (handled) (message as { type: string }).type = 'HEARTBEAT';
  }

  /** Sends `message` to `dst` on the node holding it; false when no other node does. */
  sendRemote(dst: string, message: Message): boolean {
    const node = this.remote.get(dst);
    if (!node) return false;
    this.sendTo(node, dst, message);
    return true;
  }

  /** Sends `message` to `dst` on `node` (a service there, or a peer). */
  sendTo(node: string, dst: string, message: Message): void {
    this.queue(node, { dst, message: { ...message } });
  }

  /**
   * Runs `method(...args)` on `node` (its `handle(method)` handler) and resolves with its result; rejects with a
   * `ClusterRequestError` carrying the `code` of what it threw, or when it does not answer in time.
   */
  request(node: string, method: string, args: unknown[], timeoutMs = REQUEST_TIMEOUT_MS): Promise<unknown> {
    const id = this.nextRequest++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.requests.delete(id);
        reject(new ClusterRequestError(`node ${node} did not answer ${method} in time`));
      }, timeoutMs);
      this.requests.set(id, { resolve, reject, timer });
      this.queue(node, { q: { id, method, args } });
    });
  }

  /** Serves `request(…, method, …)` from other nodes. */
  handle(method: string, fn: (args: unknown[]) => Promise<unknown>): void {
    this.handlers.set(method, fn);
  }

  /**
   * Queues an item for `node`. The first item of a turn of the event loop goes at once (a lone message waits for
   * nothing); what follows in the same turn goes as one PUBLISH per node at its end.
   */
  private queue(node: string, item: Item): void {
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
      this.redis.publish(`ce:to:${node}`, JSON.stringify({ f: this.nodeId, m: [item] })).catch((err: unknown) => this.fail(err));
      return;
    }
    let items = this.outbox.get(node);
    if (!items) this.outbox.set(node, (items = []));
    items.push(item);
  }

  private flush(): void {
    this.flushing = false;
    if (this.outbox.size === 0) return;
    const pipeline = this.redis.pipeline();
    for (const [node, m] of this.outbox) pipeline.publish(`ce:to:${node}`, JSON.stringify({ f: this.nodeId, m }));
    this.outbox.clear();
    pipeline.exec().catch((err: unknown) => this.fail(err));
  }

  /** Hands `message` to a local peer's socket as PeerServer would; false when it is not here (or closing). */
  private deliverLocal(dst: string, message: Message): boolean {
    const socket = this.local.get(dst)?.getSocket();
    if (!socket) return false;
    try {
      socket.send(JSON.stringify(message));
      return true;
    } catch {
      return false; // closing: treated as gone
    }
  }

  private deliver(envelope: Envelope, from: string): void {
    const { dst, message } = envelope;
    if (this.deliverLocal(dst, message)) {
      if (typeof message.src === 'string') {
        // A service on another node reached this node's client: its replies on that connection go back there.
        if (RESERVED_PEER_IDS.has(message.src)) this.services.learn(dst, message.src, message, from);
        this.options.onDelivered?.(message.src, message as IMessage);
      }
      return;
    }
    // The target left between routing and delivery: the sender hears what PeerServer would have said.
    if (NEEDS_TARGET.has(message.type) && typeof message.src === 'string') {
      const back = { type: 'EXPIRE', src: dst, dst: message.src };
      const srcClient = this.local.get(message.src);
      if (srcClient) srcClient.getSocket()?.send(JSON.stringify(back));
      else this.sendRemote(message.src, back);
    }
  }

  private onChannel(channel: string, text: string): void {
    if (channel !== 'ce:presence') {
      try {
        const batch = JSON.parse(text) as { f?: unknown; m?: unknown };
        if (typeof batch.f !== 'string' || !Array.isArray(batch.m)) return;
        for (const item of batch.m as Item[]) this.onItem(item, batch.f);
      } catch (err) {
        this.fail(err);
      }
      return;
    }
    const kind = text[0];
    const space = text.indexOf(' ');
    const node = space < 0 ? text.slice(1) : text.slice(1, space);
    if (node === this.nodeId) return;
    const known = this.nodes.has(node);
    this.nodes.set(node, Date.now());
    if (kind === 'h') {
      this.nodeServices.set(node, space < 0 ? [] : text.slice(space + 1).split(','));
      if (!known) void this.learnNode(node);
      return;
    }
    const peer = text.slice(space + 1);
    if (kind === '+') this.addRemote(peer, node);
    else if (kind === '-' && this.remote.get(peer) === node) this.removeRemote(peer);
  }

  private onItem(item: Item, from: string): void {
    if ('dst' in item) {
      if (typeof item.dst === 'string' && typeof item.message?.type === 'string') this.deliver(item, from);
    } else if ('q' in item) {
      const { id, method, args } = item.q;
      const fn = this.handlers.get(method);
      const answer = (a: Extract<Item, { a: unknown }>['a']) => this.queue(from, { a: a });
      if (!fn) {
        answer({ id, ok: false, error: { message: `no handler for ${method}` } });
        return;
      }
      fn(Array.isArray(args) ? args : []).then(
        (value) => answer({ id, ok: true, value }),
        (err: unknown) => answer({ id, ok: false, error: { message: err instanceof Error ? err.message : String(err), ...(typeof (err as { code?: unknown }).code === 'string' ? { code: (err as { code: string }).code } : {}) } }),
      );
    } else if ('a' in item) {
      const pending = this.requests.get(item.a.id);
      if (!pending) return;
      this.requests.delete(item.a.id);
      clearTimeout(pending.timer);
      if (item.a.ok) pending.resolve(item.a.value);
      else pending.reject(new ClusterRequestError(item.a.error?.message ?? 'failed', item.a.error?.code));
    }
  }

  private addRemote(peer: string, node: string): void {
    const before = this.remote.get(peer);
    if (before === node) return;
    if (before) this.removeRemote(peer);
    this.remote.set(peer, node);
    if (this.leaves.size) this.deliverLeaves(peer);
    const user = userOfPeer(peer);
    let set = this.remoteByUser.get(user);
    if (!set) this.remoteByUser.set(user, (set = new Set()));
    set.add(peer);
  }

  private removeRemote(peer: string): void {
    this.remote.delete(peer);
    const user = userOfPeer(peer);
    const set = this.remoteByUser.get(user);
    set?.delete(peer);
    if (set?.size === 0) this.remoteByUser.delete(user);
  }

  private async learnNode(node: string): Promise<void> {
    this.nodes.set(node, Date.now());
    try {
      for (const peer of await this.redis.smembers(`ce:peers:${node}`)) this.addRemote(peer, node);
    } catch (err) {
      this.fail(err);
    }
  }

  private sweepNodes(): void {
    const now = Date.now();
    for (const [peer, pending] of this.leaves) if (pending.until < now) this.leaves.delete(peer);
    for (const [node, at] of this.nodes) {
      if (now - at <= NODE_TTL_MS) continue;
      this.nodes.delete(node);
      this.nodeServices.delete(node);
      const peers: string[] = [];
      for (const [peer, n] of this.remote) {
        if (n !== node) continue;
        peers.push(peer);
        this.removeRemote(peer);
      }
      const serviceCalls = this.services.nodeDown(node);
      this.options.onNodeDown?.(node, { lastSeen: at, peers, serviceCalls });
    }
  }

  private async beat(): Promise<void> {
    if (this.closed || this.redis.status !== 'ready') return;
    await this.redis.multi()
      .set(`ce:node:${this.nodeId}`, String(Date.now()), 'PX', NODE_TTL_MS)
      .pexpire(`ce:peers:${this.nodeId}`, NODE_TTL_MS)
      .publish('ce:presence', `h${this.nodeId} ${[...RESERVED_PEER_IDS].filter((id) => this.local.has(id)).join(',')}`)
      .exec();
  }

  /** Renews every local peer's claim and this node's peer set (also after Redis came back empty). */
  private async resync(): Promise<void> {
    if (this.closed || this.redis.status !== 'ready') return;
    const ids = [...this.local.keys()].filter((id) => !RESERVED_PEER_IDS.has(id));
    const multi = this.redis.multi();
    for (const id of ids) multi.set(`ce:peer:${id}`, this.nodeId, 'PX', PEER_TTL_MS);
    if (ids.length) multi.sadd(`ce:peers:${this.nodeId}`, ...ids);
    multi.pexpire(`ce:peers:${this.nodeId}`, NODE_TTL_MS);
    await multi.exec();
  }

  // --- draining (SIGTERM) -----------------------------------------------------------------------------------------

  /** True once `drain` started: health checks fail and new sockets are turned away. */
  get draining(): boolean {
    return this.isDraining;
  }
  private isDraining = false;

  /**
   * Moves this node's clients elsewhere before it stops: health checks fail at once (the load balancer stops sending
   * new sockets), claims are refused (a socket that still arrives hears "id taken" and retries), then after
   * `lbGraceMs` every user's socket is closed with 1012 "service restart"; clients reconnect through the load balancer
   * to another node, and their peer-to-peer calls go on. Resolves when no user socket is left (or after `maxWaitMs`).
   */
  async drain(options: { lbGraceMs?: number; maxWaitMs?: number } = {}): Promise<void> {
    this.isDraining = true;
    await new Promise((r) => setTimeout(r, options.lbGraceMs ?? 1_500));
    const users = () => [...this.local.entries()].filter(([id]) => !RESERVED_PEER_IDS.has(id));
    for (const [, client] of users()) {
      try {
        client.getSocket()?.close(1012, 'server draining: reconnect');
      } catch {
        // already closing
      }
    }
    const end = Date.now() + (options.maxWaitMs ?? 10_000);
    while (users().length > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
  }

  // --- REST -------------------------------------------------------------------------------------------------------

  /** A REST rate limiter counting in Redis (a key's budget holds across nodes); alone when Redis is down. */
  rateLimiter(options: { perSecond: number; burst: number }, fallback: { take(key: string): number }): { take(key: string): Promise<number> } {
    return {
      take: async (key) => {
        try {
          return Number(await this.redis.eval(TAKE, 1, `ce:rl:${key}`, Date.now(), options.perSecond, options.burst));
        } catch (err) {
          this.fail(err);
          return fallback.take(key);
        }
      },
    };
  }

  /** Number of peers known on other nodes (for tests and monitoring). */
  get remoteCount(): number {
    return this.remote.size;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    this.services.close();
    for (const { timer, reject } of this.requests.values()) {
      clearTimeout(timer);
      reject(new ClusterRequestError('this node is stopping'));
    }
    this.requests.clear();
    try {
      // Leave at once instead of after NODE_TTL_MS: other nodes may take this node's peers right away.
      const ids = [...this.local.keys()].filter((id) => !RESERVED_PEER_IDS.has(id));
      const multi = this.redis.multi().del(`ce:node:${this.nodeId}`, `ce:peers:${this.nodeId}`);
      for (const id of ids) multi.eval(RELEASE, 1, `ce:peer:${id}`, this.nodeId).publish('ce:presence', `-${this.nodeId} ${id}`);
      if (this.redis.status === 'ready') await multi.exec();
    } catch {
      // Redis is gone: the keys expire by themselves
    }
    this.sub.disconnect();
    this.redis.disconnect();
  }

  private fail(err: unknown): void {
    if (!this.closed) this.options.onError?.(err);
  }
}
