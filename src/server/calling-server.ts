import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import express, { type Express } from 'express';
import { randomBytes } from 'node:crypto';
import { ExpressPeerServer } from 'peer';
import { createApiRouter, type ApiKey } from './api/router.js';
import { SignallingAuth } from './auth/signalling-auth.js';
import { RESERVED_PEER_IDS, mintServiceToken, mintUserToken, secretKey } from './auth/tokens.js';
import { CallRecorder } from './storage/call-recorder.js';
import { CallHistoryService } from './storage/call-history.js';
import type { CallingStorage } from './storage/store.js';
import { openStorage } from './storage/open.js';
import type { Cluster } from './cluster/cluster.js';
import { RateLimiter } from './api/rate-limit.js';
import { attachConferences, type ConferenceHandle, type ConferenceSettings } from './conference/index.js';
import { CONFERENCE_PEER_ID } from '../core/protocol.js';
import { TurnHandout } from './turn/handout.js';
import { SERVICE_TURN_TTL, mintTurnCredentials, type TurnSettings } from './turn/credentials.js';

export interface CallingServerOptions {
  /** TCP port; 0 picks a free one. Default 9000. */
  port?: number;
  /** Address to bind. Default 127.0.0.1: nothing is reachable from other machines unless you say so. */
  host?: string;
  /** Serve `demo/` at `/` and `dist/` at `/dist`. Default true. */
  serveDemo?: boolean;
  /** PeerServer timing: how long an offer to an absent peer waits before `peer-unavailable` (ms). Default 500. */
  expireTimeout?: number;
  /** PeerServer timing: a client silent for this long is dropped (ms). Default 15 000 (PeerJS pings every 5 s). */
  aliveTimeout?: number;
  /**
   * Secret (≥ 32 bytes) that signs signalling tokens (`CALLING_SECRET`). Without one the server runs in demo mode:
   * it generates a secret for the run and serves `GET /dev/token?userId=…` so demo pages can sign in.
   */
  secret?: string;
  /**
   * Serve `GET /dev/token` although a secret is set (`CALLING_DEV_TOKENS=1`, loopback only): the demo signs in on a
   * local cluster, whose nodes must share one secret (`npm run cluster`). Never on a reachable server.
   */
  devTokens?: boolean;
  /** SQLite file for accounts, credits and call records. Default `:memory:` (`main.ts` uses `CALLING_DB` or `data/calling.db`). */
  dbPath?: string;
  /** PostgreSQL instead of SQLite (`DATABASE_URL`, `postgres://…`): needed when several nodes share the data. */
  databaseUrl?: string;
  /** Redis (`REDIS_URL`, `redis://…`): this server is one node of several, sharing presence and relaying signalling. */
  redisUrl?: string;
  /** REST API keys (HTTP Basic). Default: one `app` and one `admin` key generated for the run (see `apiKeys`). */
  apiKeys?: ApiKey[];
  /** REST rate limit per key. Default 20 requests/s, bursts of 40. */
  apiRateLimit?: { perSecond: number; burst: number };
  /** Most signalling clients at once. Default 20 000. */
  maxPeers?: number;
  /** Call records: a party off the server this long (ms) ends its open calls with `signallingLost`. Default 30 000. */
  lostCallGrace?: number;
  /**
   * Run the conference service (a child process registered as `calling-conference`) and its REST routes under
   * `/api/v1/conferences`. Default false (`main.ts` turns it on; `CONFERENCE=off` turns it off there).
   */
  conference?: boolean | ConferenceSettings;
  /**
   * Serve HTTPS and WSS with this certificate and key (PEM file paths; `TLS_CERT` / `TLS_KEY` in `main.ts`). The
   * files are read at start (a missing or unreadable one throws a `TlsFileError`) and again by `reloadTls()`.
   */
  tls?: { certFile: string; keyFile: string };
  /**
   * Behind a reverse proxy (`TRUST_PROXY=1`): the client address for rate limits and logs is the last
   * `X-Forwarded-For` entry (the one the proxy added), not the proxy's own address. Only one proxy hop is trusted.
   */
  trustProxy?: boolean;
  /**
   * TURN servers (`TURN_URLS`, `TURN_SECRET`, `TURN_TTL`): every signed-in client gets credentials minted for its
   * user on its signalling connection, renewed before they expire (see `src/server/turn/`).
   */
  turn?: TurnSettings;
}

/** A TLS certificate or key file that could not be read. */
export class TlsFileError extends Error {
  override readonly name = 'TlsFileError';
}

export interface CallingServer {
  /** Base URL clients pass as `server`, e.g. `http://127.0.0.1:9000`. */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  /** The HTTP server, an `https.Server` when `tls` is set. */
  readonly http: Server;
  /**
   * Where the server's own child processes (gateway, conference) connect: `url` without TLS; with TLS a second,
   * plain-HTTP listener on 127.0.0.1 (the public certificate names a domain, not 127.0.0.1).
   */
  readonly internalUrl: string;
  /** Reads the TLS certificate and key files again and uses them for new connections (no-op without `tls`). */
  reloadTls(): void;
  readonly app: Express;
  /** The secret that signs signalling tokens (generated for the run in demo mode). */
  readonly secret: string;
  /** True when no secret was configured: the dev token endpoint is served. */
  readonly devMode: boolean;
  /** The REST API keys in use. */
  readonly apiKeys: readonly ApiKey[];
  readonly store: CallingStorage;
  readonly recorder: CallRecorder;
  /** This node's link to the others (with `redisUrl`); `cluster.drain()` moves its clients before a stop. */
  readonly cluster: Cluster | undefined;
  /** The conference service (its `backend` is undefined unless `conference` was set). */
  readonly conferences: ConferenceHandle;
  /**
   * A fresh signalling token for `id` (a service token for the reserved gateway / conference ids), for in-process
   * peers and tests: `NodePeer.start({ id, server: s.url, token: () => s.mintToken(id) })`.
   */
  mintToken(id: string): Promise<string>;
  /**
   * Adds a check to `GET /healthz` (`main.ts` adds the gateway's child process). `/healthz` answers 200
   * `{ ok: true, checks: { signalling: 'up', database: 'up', … } }`, or 503 with `ok: false` when a check is down.
   */
  addHealthCheck(name: string, check: () => boolean | Promise<boolean>): void;
  /** TURN servers with long-lived credentials for the server's own WebRTC legs (gateway, conference); [] without TURN. */
  serviceIceServers(id: string): RTCIceServer[];
  close(): Promise<void>;
}

const root = fileURLToPath(new URL('../../', import.meta.url));

/**
 * Starts the calling server: PeerJS signalling on `/peerjs` (tuned so that calls to absent users fail in ≈ 0.6 s
 * instead of 5.5 s), the demo page and the browser bundle.
 */
export async function startCallingServer(options: CallingServerOptions = {}): Promise<CallingServer> {
  const host = options.host ?? '127.0.0.1';
  const app = express();
  app.disable('x-powered-by');
  if (options.trustProxy) app.set('trust proxy', 1);
  const tls = options.tls;
  const http: Server = tls ? (createHttpsServer(readTls(tls), app) as HttpsServer as unknown as Server) : createServer(app);
  const devMode = options.secret === undefined;
  const secret = options.secret ?? randomBytes(32).toString('base64url');
  secretKey(secret); // throws for a secret shorter than 32 bytes, before anything listens
  const apiKeys = options.apiKeys ?? [
    { key: `app_${randomBytes(6).toString('hex')}`, secret: randomBytes(24).toString('base64url'), role: 'app' as const },
    { key: `admin_${randomBytes(6).toString('hex')}`, secret: randomBytes(24).toString('base64url'), role: 'admin' as const },
  ];
  const expireTimeout = options.expireTimeout ?? 500;
  const store = await openStorage({ databaseUrl: options.databaseUrl, dbPath: options.dbPath });
  // Several nodes: the cluster hooks below are its only ties into signalling, recording and the REST API.
  // Loaded only with REDIS_URL: a single node needs neither the module nor ioredis.
  const clusterModules = options.redisUrl
    ? await Promise.all([import('./cluster/cluster.js'), import('./cluster/conferences.js'), import('./cluster/records.js')]) : undefined;
  const clusterError = (err: unknown) => console.error('calling-server: cluster', err instanceof Error ? err.message : err);
  const cluster = options.redisUrl && clusterModules ? await clusterModules[0].Cluster.start({
    redisUrl: options.redisUrl,
    onDelivered: (src, message) => recorder.onRelayed(src, message),
    // Close the records the dead node can no longer close (see cluster/records.ts).
    onNodeDown: (node, lost) => clusterModules[2].closeDeadNodeCalls(store, cluster!, node, lost, { graceMs: options.lostCallGrace ?? 30_000, onError: clusterError }),
    onError: clusterError,
  }) : undefined;
  const recorder = new CallRecorder(store, {
    unavailableAfter: expireTimeout + 300,
    ...(cluster ? { isOnline: (id: string) => cluster.isOnline(id) } : {}),
    ...(options.lostCallGrace === undefined ? {} : { lostGrace: options.lostCallGrace }),
    onError: (err) => console.error('calling-server: call record not written', err),
  });
  const auth = new SignallingAuth({ secret, http, key: 'peerjs', ...(cluster ? { cluster } : {}) });
  const turn = options.turn ? new TurnHandout(options.turn) : undefined;
  // Recent calls for the signed-in user, answered on the signalling socket after this node's pending records are written.
  const history = new CallHistoryService(store, {
    userOf: (client) => auth.userOf(client),
    recorded: () => recorder.idle(),
    onError: (err) => console.error('calling-server: call history not read', err),
  });

  const peerServer = ExpressPeerServer(http, {
    path: '/',
    key: 'peerjs',
    expire_timeout: expireTimeout,
    cleanup_out_msgs: 100,
    alive_timeout: options.aliveTimeout ?? 15_000,
    allow_discovery: false,
    proxied: false,
    concurrent_limit: options.maxPeers ?? 20_000,
    createWebSocketServer: auth.createWebSocketServer,
  });
  app.use('/peerjs', peerServer);
  peerServer.on('connection', (client) => {
    auth.onConnection(client);
    recorder.onConnection(client);
    turn?.onConnection(client);
    cluster?.onConnection(client);
  });
  peerServer.on('disconnect', (client) => {
    turn?.onDisconnect(client);
    auth.onDisconnect(client);
    recorder.onDisconnect(client);
    cluster?.onDisconnect(client);
  });
  peerServer.on('message', (client, message) => {
    auth.handleMessage(client, message);
    recorder.onMessage(client, message);
    history.onMessage(client, message);
    cluster?.onMessage(client, message); // last: it hands messages for other nodes to Redis
  });
  peerServer.on('error', () => undefined); // malformed client frames: PeerServer drops them; nothing to crash on
  const conferences = attachConferences(app, {
    keys: apiKeys, store, ...(options.apiRateLimit ? { rateLimit: options.apiRateLimit } : {}),
    // Several nodes: a room's REST calls go to the node hosting it.
    ...(cluster && clusterModules ? { backend: (local) => clusterModules[1].clusterConferences(cluster, local) } : {}),
  });
  if (cluster && clusterModules) clusterModules[1].serveConferences(cluster, () => conferences.backend);
  const clusterApi = cluster ? {
    limiter: cluster.rateLimiter(options.apiRateLimit ?? { perSecond: 20, burst: 40 }, new RateLimiter(options.apiRateLimit ?? { perSecond: 20, burst: 40 })),
    onlinePeers: () => cluster.onlinePeers(),
  } : {};
  app.use('/api/v1', createApiRouter({ store, recorder, secret, keys: apiKeys, ...(options.apiRateLimit ? { rateLimit: options.apiRateLimit } : {}), ...clusterApi }));
  if (devMode || options.devTokens) {
    // Demo mode (or a local cluster) only: anyone who can reach the server may sign in as anyone.
    app.get('/dev/token', (req, res) => {
      const userId = typeof req.query.userId === 'string' ? req.query.userId : '';
      mintUserToken(secret, userId).then(
        ({ token, expiresAt }) => res.json({ token, expiresAt: new Date(expiresAt).toISOString() }),
        (err: unknown) => res.status(400).json({ error: { code: 'invalid-request', message: `userId: ${err instanceof Error ? err.message : 'invalid'}`, field: 'userId' } }),
      );
    });
  }

  // For monitoring: signalling listening, the database taking a write lock, the conference child alive.
  const healthChecks = new Map<string, () => boolean | Promise<boolean>>([
    ['signalling', () => http.listening],
    ['database', () => store.writable()],
  ]);
  if (options.conference) healthChecks.set('conference', () => isAlive(conferences.process?.pid));
  app.get('/healthz', async (_req, res) => {
    // A draining node fails its health check so the load balancer sends new clients elsewhere.
    if (cluster?.draining) {
      res.status(503).json({ ok: false, draining: true, node: cluster.nodeId });
      return;
    }
    const results = await Promise.all([...healthChecks].map(async ([name, check]) => [name, (await check()) ? 'up' : 'down'] as const));
    const checks: Record<string, 'up' | 'down'> = Object.fromEntries(results);
    const ok = Object.values(checks).every((c) => c === 'up');
    res.status(ok ? 200 : 503).json({ ok, checks, ...(cluster ? { node: cluster.nodeId } : {}) });
  });
  if (options.serveDemo ?? true) {
    app.use('/dist', express.static(`${root}dist`, { fallthrough: true }));
    app.use('/', express.static(`${root}demo`, { extensions: ['html'] }));
  }

  const sockets = new Set<import('node:net').Socket>();
  http.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 9000, host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const scheme = tls ? 'https' : 'http';
  let internal: Server | undefined;
  if (tls) {
    const plain = createServer(app);
    internal = plain;
    plain.on('upgrade', (...args) => http.emit('upgrade', ...args));
    plain.on('connection', (s) => {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      plain.once('error', reject);
      plain.listen(0, '127.0.0.1', () => resolve());
    });
  }
  const internalUrl = internal ? `http://127.0.0.1:${(internal.address() as AddressInfo).port}`
    : `http://${host === '0.0.0.0' || host === '::' ? '127.0.0.1' : urlHost}:${port}`;
  const serviceIceServers = (id: string): RTCIceServer[] => (options.turn ? mintTurnCredentials({ ...options.turn, ttl: SERVICE_TURN_TTL }, id).iceServers : []);
  if (options.conference) {
    const settings = options.conference === true ? {} : options.conference;
    await conferences.start(internalUrl, async () => (await mintServiceToken(secret, CONFERENCE_PEER_ID)).token,
      options.turn ? { ...settings, iceServers: () => serviceIceServers(CONFERENCE_PEER_ID) } : settings);
  }
  return {
    url: `${scheme}://${urlHost}:${port}`,
    port,
    host,
    http,
    internalUrl,
    reloadTls: () => {
      if (tls) (http as unknown as HttpsServer).setSecureContext(readTls(tls));
    },
    app,
    secret,
    devMode,
    apiKeys,
    store,
    recorder,
    cluster,
    conferences,
    serviceIceServers,
    addHealthCheck: (name, check) => { healthChecks.set(name, check); },
    mintToken: async (id) => (await (RESERVED_PEER_IDS.has(id) ? mintServiceToken(secret, id) : mintUserToken(secret, id))).token,
    close: () =>
      conferences.stop().then(() => new Promise<void>((resolve) => {
        auth.close();
        turn?.close();
        recorder.close();
        void cluster?.close();
        for (const s of sockets) s.destroy();
        internal?.close();
        http.close(() => {
          void recorder.idle().then(() => store.close()).then(resolve, resolve);
        });
      })),
  };
}

function readTls(tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (what: string, file: string): Buffer => {
    try {
      return readFileSync(file);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new TlsFileError(`TLS ${what} ${file} cannot be read${code ? ` (${code})` : ''}.`);
    }
  };
  return { cert: read('certificate', tls.certFile), key: read('key', tls.keyFile) };
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
