/**
 * `TURN=embedded`: the calling server starts Debian's coturn (`turnserver`) itself, with a secret generated for the
 * run, and restarts it when it exits (1 s, 2 s, 4 s … 30 s apart), so a single small server needs one command.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { delimiter, join } from 'node:path';
import { X509Certificate, randomBytes } from 'node:crypto';
import { stunAnswers } from './stun.js';

export interface EmbeddedTurnOptions {
  /** UDP and TCP port for TURN (`TURN_PORT`). Default 3478. */
  port?: number;
  /** Relay port range (`TURN_MIN_PORT`–`TURN_MAX_PORT`). Default 49152–49951 (two ports per relayed call leg). */
  minPort?: number;
  maxPort?: number;
  /** Address to listen and relay on. Default: every address. */
  listeningIp?: string;
  /** Public address when the server sits behind a 1:1 NAT (cloud VMs), `TURN_EXTERNAL_IP`. */
  externalIp?: string;
  /** `static-auth-secret`. Default: generated for the run. */
  secret?: string;
  /**
   * Everything on one machine (a loopback `HOST`): relay to 127.0.0.0/8 and to private addresses. Otherwise coturn
   * refuses peers in private, shared and link-local ranges (see {@link INTERNAL_PEER_RANGES}) other than this
   * server's own relay addresses. Never in production.
   */
  allowLoopbackPeers?: boolean;
  /**
   * TURN over TLS (`turns:`, for networks that let only TLS out) on `port` (`TURN_TLS_PORT`, default 5349) with this
   * PEM certificate and key (the server's `TLS_CERT` / `TLS_KEY`). Without it coturn runs with `--no-tls`.
   * DTLS stays off either way. {@link EmbeddedTurn.reloadTls} makes coturn re-read both files.
   */
  tls?: { certFile: string; keyFile: string; port?: number };
  binary?: string;
  log?: (line: string) => void;
}

export const DEFAULT_TURN_PORT = 3478;
export const DEFAULT_TURN_TLS_PORT = 5349;

/**
 * Ranges a public TURN server never relays into: "this network", RFC 1918, shared address space (RFC 6598),
 * link-local (the cloud metadata service at 169.254.169.254) and their IPv6 counterparts (unique and link-local).
 * Browsers' useful candidates are public (server-reflexive, relayed); a relay into these would let anyone with a
 * credential reach the server's own networks. coturn 4.6 denies only loopback by default.
 */
export const INTERNAL_PEER_RANGES = [
  '0.0.0.0-0.255.255.255', '10.0.0.0-10.255.255.255', '100.64.0.0-100.127.255.255', '169.254.0.0-169.254.255.255',
  '172.16.0.0-172.31.255.255', '192.168.0.0-192.168.255.255',
  'fc00::-fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'fe80::-febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
];

/**
 * The addresses coturn relays from: the one it listens on, or every address of this machine. They stay allowed as
 * peers even inside a denied range, since two relayed browsers reach each other through them (relay to relay).
 */
function ownRelayAddresses(o: EmbeddedTurnOptions): string[] {
  const own = o.listeningIp ? [o.listeningIp] : Object.values(networkInterfaces()).flat()
    .filter((i) => i && !i.internal).map((i) => i!.address.replace(/%.*$/, ''));
  // TURN_EXTERNAL_IP may be `public/private`: the private one is a relay address too.
  const behindNat = o.externalIp?.split('/')[1];
  return [...new Set([...own, ...(behindNat ? [behindNat] : [])])];
}

/**
 * The host name a `turns:` URI can use with this PEM certificate (a browser checks the TURN server's certificate
 * against the URI's host): `wanted` (`TURN_HOST`) when the certificate covers it, else — without `wanted` — its first
 * DNS name that is not a wildcard. Null when the certificate does not cover `wanted` or names no host; undefined when
 * it cannot be read (startup reports an unusable file in its own words).
 */
export function certificateHostName(certFile: string, wanted?: string): string | null | undefined {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(certFile));
  } catch {
    return undefined;
  }
  if (wanted) return (isIP(wanted) ? cert.checkIP(wanted) : cert.checkHost(wanted)) ? wanted : null;
  const names = cert.subjectAltName?.split(', ') ?? [];
  return names.find((n) => n.startsWith('DNS:') && !n.includes('*'))?.slice(4) ?? null;
}

/** Whether coturn's `turnserver` binary can be run. */
export function coturnInstalled(binary = 'turnserver'): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export class EmbeddedTurn {
  readonly secret: string;
  readonly port: number;
  /** The TURN-over-TLS port, when {@link EmbeddedTurnOptions.tls} is set. */
  readonly tlsPort: number | undefined;
  private child: ChildProcess | undefined;
  private stopping = false;
  private restarts = 0;
  private startedAt = 0;

  private constructor(private readonly options: EmbeddedTurnOptions) {
    this.secret = options.secret ?? randomBytes(24).toString('base64url');
    this.port = options.port ?? DEFAULT_TURN_PORT;
    this.tlsPort = options.tls ? options.tls.port ?? DEFAULT_TURN_TLS_PORT : undefined;
  }

  /** Starts coturn and resolves once it answers STUN (or rejects after 10 s). */
  static async start(options: EmbeddedTurnOptions = {}): Promise<EmbeddedTurn> {
    const turn = new EmbeddedTurn(options);
    turn.spawn();
    if (!(await turn.answers(10_000))) {
      await turn.stop();
      throw new Error(`coturn did not answer on port ${turn.port} within 10 s`);
    }
    return turn;
  }

  /** coturn's process id while it runs (for CPU figures). */
  get pid(): number | undefined { return this.child?.exitCode === null ? this.child.pid : undefined; }

  /** Whether coturn answers a STUN Binding request now. */
  answers(ms = 1000): Promise<boolean> {
    return stunAnswers(this.options.listeningIp ?? '127.0.0.1', this.port, ms);
  }

  /**
   * Makes coturn re-read its TLS certificate and key (SIGUSR2, coturn ≥ 4.6: `reload_ssl_certs`); new TLS connections
   * get the new certificate shortly after, connections already open keep theirs. Call it only once the files are
   * known to be a usable pair: coturn reports a bad file only in its own log. Nothing happens without TLS.
   */
  reloadTls(): void {
    if (this.options.tls && this.pid !== undefined) this.child!.kill('SIGUSR2');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const kill = setTimeout(() => child.kill('SIGKILL'), 2000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }

  private args(): string[] {
    const o = this.options;
    const tls = o.tls ? [`--tls-listening-port=${this.tlsPort}`, `--cert=${o.tls.certFile}`, `--pkey=${o.tls.keyFile}`] : ['--no-tls'];
    return [
      '-n', '--no-cli', ...tls, '--no-dtls', '--fingerprint', '--no-software-attribute', '--no-multicast-peers',
      '--use-auth-secret', `--static-auth-secret=${this.secret}`, '--realm=calling-elements',
      `--listening-port=${this.port}`, `--min-port=${o.minPort ?? 49152}`, `--max-port=${o.maxPort ?? 49951}`,
      '--no-stdout-log', '--log-file=/dev/null', '--pidfile=/dev/null',
      ...(o.listeningIp ? [`--listening-ip=${o.listeningIp}`, `--relay-ip=${o.listeningIp}`] : []),
      ...(o.externalIp ? [`--external-ip=${o.externalIp}`] : []),
      ...(o.allowLoopbackPeers
        ? ['--allow-loopback-peers']
        : [...INTERNAL_PEER_RANGES.map((r) => `--denied-peer-ip=${r}`), ...ownRelayAddresses(o).map((a) => `--allowed-peer-ip=${a}`)]),
    ];
  }

  private spawn(): void {
    const log = this.options.log ?? ((l: string) => console.error(`turn: ${l}`));
    const child = spawn(this.options.binary ?? 'turnserver', this.args(), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.startedAt = Date.now();
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => { if (stderr.length < 2000) stderr += d.toString(); });
    child.on('error', (err) => log(`coturn could not be started: ${err.message}`));
    child.once('exit', (code, signal) => {
      if (this.stopping) return;
      if (Date.now() - this.startedAt > 60_000) this.restarts = 0;
      const delay = Math.min(30_000, 1000 * 2 ** this.restarts++);
      // Its last stderr line says why it gave up; after a kill it is only start-up noise.
      const why = !signal && stderr ? `: ${stderr.trim().split('\n').at(-1)}` : '';
      log(`coturn exited (${signal ?? code}${why}); restarting in ${delay} ms`);
      setTimeout(() => { if (!this.stopping) this.spawn(); }, delay).unref();
    });
  }
}
