/**
 * A whole cluster on 127.0.0.1 for tests and `npm run cluster`: a throwaway PostgreSQL (initdb in a temp dir, pg_ctl
 * on a free port), a Redis (`redis-server`, no persistence), N server nodes (`src/server/main.ts` as child
 * processes) and HAProxy with `deploy/haproxy.cfg`. Every piece is stopped and its files removed by `stop()`.
 * Root runs the PostgreSQL binaries as `postgres` (initdb refuses root); anyone else runs them as themselves.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The newest PostgreSQL bin directory of the Debian package, or undefined when it is not installed. */
export function postgresBin(): string | undefined {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base).filter((v) => existsSync(join(base, v, 'bin', 'initdb'))).sort((a, b) => Number(a) - Number(b));
  const v = versions.at(-1);
  return v ? join(base, v, 'bin') : undefined;
}

/** Why PostgreSQL tests cannot run here, or undefined when they can. */
export function postgresMissing(): string | undefined {
  if (!postgresBin()) return 'PostgreSQL is not installed (Debian: apt-get install postgresql; npm test installs it as root)';
  return undefined;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export interface ThrowawayPostgres {
  url: string;
  /** A URL for another, empty database of the same cluster. */
  createDatabase(name: string): string;
  stop(): void;
}

export async function startPostgres(): Promise<ThrowawayPostgres> {
  const bin = postgresBin();
  if (!bin) throw new Error(postgresMissing());
  const dir = mkdtempSync(join(tmpdir(), 'calling-pg-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const run = (cmd: string, args: string[]) => {
    if (asRoot) {
      const line = [join(bin, cmd), ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', line], { stdio: 'pipe' });
    } else {
      execFileSync(join(bin, cmd), args, { stdio: 'pipe' });
    }
  };
  const data = join(dir, 'data');
  let started = false;
  const stop = () => {
    try {
      if (started) run('pg_ctl', ['-D', data, 'stop', '-m', 'immediate', '-w']);
    } catch { /* already stopped */ }
    started = false;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
    run('pg_ctl', ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), 'start', '-w']);
    started = true;
    const createDatabase = (name: string) => {
      run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', name]);
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    };
    return { url: createDatabase('calling'), createDatabase, stop };
  } catch (err) {
    stop();
    throw err;
  }
}

/** Why a local cluster cannot start here (a Debian package missing), or undefined. */
export function clusterMissing(): string | undefined {
  const missing = [
    postgresBin() ? undefined : 'postgresql',
    onPath('redis-server') ? undefined : 'redis-server',
    onPath('haproxy') ? undefined : 'haproxy',
  ].filter(Boolean);
  return missing.length ? `needs the Debian packages: ${missing.join(' ')}` : undefined;
}

function onPath(cmd: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => existsSync(join(d, cmd)));
}

/** Resolves when something accepts HTTP on `url` with a 2xx (polling), or rejects after `ms`. */
export async function waitForHttp(url: string, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`${what} did not come up within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface LocalRedis { url: string; port: number; process: ChildProcess; stop(): void }

export async function startRedis(): Promise<LocalRedis> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const url = `redis://127.0.0.1:${port}`;
  const end = Date.now() + 5000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const s = createConnection(port);
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (up) break;
    if (Date.now() > end || child.exitCode !== null) { child.kill('SIGKILL'); throw new Error('redis-server did not start'); }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { url, port, process: child, stop: () => { if (child.exitCode === null) child.kill('SIGKILL'); } };
}

function createConnection(port: number): Socket {
  return new Socket().connect(port, '127.0.0.1');
}

export interface LocalNode {
  index: number;
  /** Its name in Redis (what `/healthz` answers as `node`). */
  nodeId: string;
  port: number;
  url: string;
  process: ChildProcess;
  /** What the node printed (stdout and stderr). */
  log(): string;
  /** Signals the node's main process (SIGTERM: it drains). */
  kill(signal: NodeJS.Signals): void;
  /** SIGKILL to the node and its children (gateway, conference service) at once, as when its machine dies. */
  crash(): void;
  exited: Promise<number | null>;
}

export interface LocalCluster {
  lb: string;
  lbPort: number;
  nodes: LocalNode[];
  redis: LocalRedis;
  postgres: ThrowawayPostgres;
  secret: string;
  app: { key: string; secret: string };
  admin: { key: string; secret: string };
  /** The node `peerId` is signed in on (its claim in Redis), or undefined. */
  whereIs(peerId: string): Promise<LocalNode | undefined>;
  /** The node hosting conference room `room` (its claim in Redis), or undefined. */
  roomHost(room: string): Promise<LocalNode | undefined>;
  stop(): Promise<void>;
}

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** Starts PostgreSQL, Redis, `nodes` server nodes and HAProxy in front of them, all on 127.0.0.1. */
export async function startLocalCluster(options: {
  nodes?: number; env?: Record<string, string>; lbPort?: number;
  /** Variables for one node (e.g. a gateway on node 0 only), after `env`. */
  nodeEnv?: (index: number) => Record<string, string>;
} = {}): Promise<LocalCluster> {
  const count = options.nodes ?? 3;
  const secret = randomBytes(32).toString('base64url');
  const app = { key: 'app_cluster', secret: randomBytes(16).toString('hex') };
  const admin = { key: 'admin_cluster', secret: randomBytes(16).toString('hex') };
  const cleanups: Array<() => void | Promise<void>> = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) {
      try { await c(); } catch { /* keep stopping the rest */ }
    }
    cleanups.length = 0;
  };
  try {
    const postgres = await startPostgres();
    cleanups.push(() => postgres.stop());
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const nodes: LocalNode[] = [];
    for (let i = 0; i < count; i++) {
      const port = await freePort();
      let out = '';
      const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/server/main.ts')], {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'pipe'],
        detached: true, // its own process group: crash() takes its children with it
        env: {
          // NODE_TEST_CONTEXT would make the node talk the test runner's protocol instead of running.
          ...Object.fromEntries(Object.entries(process.env).filter(([k]) => k !== 'NODE_TEST_CONTEXT')), PORT: String(port), HOST: '127.0.0.1', CALLING_SECRET: secret, REDIS_URL: redis.url,
          DATABASE_URL: postgres.url, GATEWAY: 'off', CONFERENCE: 'off',
          CALLING_APP_KEY: app.key, CALLING_APP_SECRET: app.secret, CALLING_ADMIN_KEY: admin.key, CALLING_ADMIN_SECRET: admin.secret,
          ...options.env,
          ...options.nodeEnv?.(i),
        },
      });
      child.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      const crash = () => {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch { /* already gone */ }
      };
      cleanups.push(async () => { const running = child.exitCode === null && child.signalCode === null; crash(); if (running) await exited; });
      nodes.push({ index: i, nodeId: '', port, url: `http://127.0.0.1:${port}`, process: child, log: () => out, kill: (s) => child.kill(s), crash, exited });
    }
    await Promise.all(nodes.map(async (n) => {
      await waitForHttp(`${n.url}/healthz`, 60_000, `node ${n.index}`).catch((err: Error) => {
        throw new Error(`${err.message}\n${n.log()}`);
      });
      n.nodeId = ((await (await fetch(`${n.url}/healthz`)).json()) as { node: string }).node;
    }));
    const lbPort = options.lbPort || await freePort(); // 0 too: pick a free port
    const dir = mkdtempSync(join(tmpdir(), 'calling-lb-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const cfg = readFileSync(join(ROOT, 'deploy/haproxy.cfg'), 'utf8')
      .replace('@BIND@', `127.0.0.1:${lbPort}`)
      .replace('@SERVERS@', nodes.map((n) => `    server node${n.index} 127.0.0.1:${n.port} check`).join('\n'));
    writeFileSync(join(dir, 'haproxy.cfg'), cfg);
    const lb = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'ignore' });
    cleanups.push(() => { if (lb.exitCode === null) lb.kill('SIGKILL'); });
    await waitForHttp(`http://127.0.0.1:${lbPort}/healthz`, 10_000, 'haproxy');
    const nodeAt = async (key: string) => {
      const { Redis } = await import('ioredis');
      const r = new Redis(redis.url);
      try {
        const node = await r.get(key);
        return nodes.find((n) => n.nodeId === node);
      } finally {
        r.disconnect();
      }
    };
    return {
      lb: `http://127.0.0.1:${lbPort}`, lbPort, nodes, redis, postgres, secret, app, admin, stop,
      whereIs: (peerId) => nodeAt(`ce:peer:${peerId}`), roomHost: (room) => nodeAt(`ce:room:${room}`),
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
