/**
 * `npm start`: the calling server and the demo on http://localhost:9000 (PORT and HOST override).
 * CALLING_SECRET signs signalling tokens (without it: demo mode), CALLING_DB is the SQLite file (DATABASE_URL=postgres://…
 * uses PostgreSQL instead), CALLING_APP_KEY /
 * CALLING_APP_SECRET and CALLING_ADMIN_KEY / CALLING_ADMIN_SECRET are the REST API's Basic-auth credentials.
 * TLS_CERT / TLS_KEY serve HTTPS + WSS (SIGHUP re-reads them), TRUST_PROXY=1 trusts one reverse proxy's
 * X-Forwarded-For. The README's "Configuration" section lists every variable.
 */
import type { ApiKey } from './api/router.js';
import { TlsFileError, startCallingServer } from './calling-server.js';
import { DEFAULT_DB_PATH } from './storage/store.js';
import { DEFAULT_LIMITS, limitsFromEnv } from './conference/index.js';
import { ensureTestNumberFree, startGatewayProcess, storeAuthorizer } from './gateway/launcher.js';
import { GATEWAY_PEER_ID } from '../core/protocol.js';
import { randomBytes } from 'node:crypto';
import { turnSettingsFromEnv, type TurnSettings } from './turn/credentials.js';
import { DEFAULT_TURN_PORT, DEFAULT_TURN_TLS_PORT, EmbeddedTurn, certificateHostName, coturnInstalled } from './turn/embedded.js';

const port = Number(process.env.PORT ?? 9000);
const host = process.env.HOST ?? '127.0.0.1';
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`PORT must be a number from 0 to 65535 (got "${process.env.PORT}").`);
  process.exit(1);
}

const secret = process.env.CALLING_SECRET || undefined;
if (secret !== undefined && Buffer.byteLength(secret) < 32) {
  console.error('CALLING_SECRET must be at least 32 bytes (e.g. `openssl rand -base64 48`).');
  process.exit(1);
}
// Off localhost, demo mode would hand anyone a token for any user: only on purpose.
const loopback = isLoopback(host);
if (!loopback && !secret && process.env.CALLING_DEMO !== '1') {
  console.error(`HOST=${host} is reachable from other machines: set CALLING_SECRET (>= 32 bytes), or CALLING_DEMO=1 to run the demo mode there on purpose.`);
  process.exit(1);
}
// A local cluster's demo (npm run cluster): dev tokens with a shared secret, on loopback only.
const devTokens = process.env.CALLING_DEV_TOKENS === '1';
if (devTokens && !loopback) {
  console.error(`CALLING_DEV_TOKENS=1 hands anyone a token for any user: only on a loopback HOST (got ${host}).`);
  process.exit(1);
}
const certFile = process.env.TLS_CERT || undefined;
const keyFile = process.env.TLS_KEY || undefined;
if (!certFile !== !keyFile) {
  console.error('Set both TLS_CERT and TLS_KEY (PEM file paths), or neither.');
  process.exit(1);
}
const tls = certFile && keyFile ? { certFile, keyFile } : undefined;
const trustProxy = process.env.TRUST_PROXY === '1';
if (!loopback && !tls && !trustProxy) {
  console.warn(`Warning: plain HTTP on HOST=${host}: browsers refuse the microphone and camera to pages that are not HTTPS (set TLS_CERT/TLS_KEY, or TRUST_PROXY=1 behind an HTTPS proxy).`);
}
const apiKeys: ApiKey[] = [];
for (const [prefix, role] of [['CALLING_APP', 'app'], ['CALLING_ADMIN', 'admin']] as const) {
  const key = process.env[`${prefix}_KEY`];
  const keySecret = process.env[`${prefix}_SECRET`];
  if (!key !== !keySecret) {
    console.error(`Set both ${prefix}_KEY and ${prefix}_SECRET, or neither.`);
    process.exit(1);
  }
  if (key && keySecret) apiKeys.push({ key, secret: keySecret, role });
}
const dbPath = process.env.CALLING_DB || DEFAULT_DB_PATH;
const databaseUrl = process.env.DATABASE_URL || undefined;
const redisUrl = process.env.REDIS_URL || undefined;
// How long a party may be off signalling before its open call records end as signallingLost (also after its node died).
const lostGraceRaw = process.env.CALL_LOST_GRACE_MS;
const lostCallGrace = lostGraceRaw ? Number(lostGraceRaw) : undefined;
if (lostCallGrace !== undefined && (!Number.isInteger(lostCallGrace) || lostCallGrace < 0)) {
  console.error(`CALL_LOST_GRACE_MS must be a whole number of milliseconds (got "${lostGraceRaw}").`);
  process.exit(1);
}

let conferenceLimits;
try {
  conferenceLimits = limitsFromEnv();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
// Phone / SIP callouts into rooms go through the gateway when it runs.
const conference = process.env.CONFERENCE === 'off' ? false : { limits: conferenceLimits, gateway: process.env.GATEWAY !== 'off' };
// TURN: TURN_URLS + TURN_SECRET point at a coturn of your own; TURN=embedded runs one here (see the README).
let turn: TurnSettings | undefined;
let embeddedTurn: EmbeddedTurn | undefined;
try {
  if (process.env.TURN === 'embedded') {
    if (!coturnInstalled()) throw new Error('TURN=embedded needs coturn, and its turnserver binary is not installed (Debian: apt-get install coturn).');
    const turnPort = intFromEnv('TURN_PORT', DEFAULT_TURN_PORT);
    const wildcard = host === '0.0.0.0' || host === '::';
    const turnName = process.env.TURN_HOST || host;
    if (wildcard && !process.env.TURN_URLS && !process.env.TURN_HOST) throw new Error(`TURN=embedded with HOST=${host}: set TURN_HOST to the name browsers reach this server by, or TURN_URLS (e.g. turn:calling.example.com:${turnPort}?transport=udp,turn:calling.example.com:${turnPort}?transport=tcp).`);
    const turnSecret = process.env.TURN_SECRET || randomBytes(24).toString('base64url');
    // With TLS_CERT/TLS_KEY coturn also serves TURN over TLS (networks that let only TLS out) with that certificate.
    // A turns: URI must name a host the certificate is valid for: TURN_HOST, else the certificate's own name.
    const turnTls = tls ? { ...tls, port: intFromEnv('TURN_TLS_PORT', DEFAULT_TURN_TLS_PORT) } : undefined;
    const tlsName = turnTls && certificateHostName(turnTls.certFile, process.env.TURN_HOST || undefined);
    if (turnTls && tlsName === null && !process.env.TURN_URLS) {
      const why = process.env.TURN_HOST ? `TLS_CERT does not cover TURN_HOST=${process.env.TURN_HOST}` : 'TLS_CERT names no single host; set TURN_HOST';
      console.warn(`Warning: TURN over TLS (port ${turnTls.port}) is not in the default TURN_URLS: ${why}.`);
    }
    const at = (name: string, p: number) => `${name.includes(':') ? `[${name}]` : name}:${p}`;
    // coturn answers on TCP on the same port: networks that let no UDP out (some offices, hotels) still get a relay.
    const defaultUrls = [`turn:${at(turnName, turnPort)}?transport=udp`, `turn:${at(turnName, turnPort)}?transport=tcp`,
      ...(turnTls && tlsName ? [`turns:${at(tlsName, turnTls.port)}?transport=tcp`] : [])];
    turn = turnSettingsFromEnv({ ...process.env, TURN_SECRET: turnSecret, TURN_URLS: process.env.TURN_URLS || defaultUrls.join(',') });
    embeddedTurn = await EmbeddedTurn.start({
      port: turnPort, secret: turnSecret, minPort: intFromEnv('TURN_MIN_PORT', 49152), maxPort: intFromEnv('TURN_MAX_PORT', 49951),
      ...(turnTls ? { tls: turnTls } : {}),
      ...(wildcard ? {} : { listeningIp: host === 'localhost' ? '127.0.0.1' : host }),
      ...(process.env.TURN_EXTERNAL_IP ? { externalIp: process.env.TURN_EXTERNAL_IP } : {}),
      // On a loopback HOST everything (browsers, relay) is on this machine; never off it.
      allowLoopbackPeers: loopback,
    });
  } else {
    turn = turnSettingsFromEnv(process.env);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}

let server;
try {
  server = await startCallingServer({
    port, host, dbPath, conference, trustProxy, ...(devTokens ? { devTokens } : {}), ...(lostCallGrace === undefined ? {} : { lostCallGrace }), ...(databaseUrl ? { databaseUrl } : {}), ...(redisUrl ? { redisUrl } : {}), ...(tls ? { tls } : {}), ...(turn ? { turn } : {}), ...(secret ? { secret } : {}), ...(apiKeys.length ? { apiKeys } : {}),
  });
} catch (err) {
  // One line for what an operator must fix (a certificate file, a taken port), not a stack trace.
  if (err instanceof TlsFileError) console.error(err.message);
  else if (tls && isTlsError(err)) console.error(`TLS_CERT / TLS_KEY are not a usable PEM certificate and key: ${(err as Error).message}`);
  else if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') console.error(`Port ${port} on ${host} is already in use.`);
  else throw err;
  await embeddedTurn?.stop();
  process.exit(1);
}
const shown = host === '127.0.0.1' && !tls ? `http://localhost:${server.port}` : server.url;
if (tls) {
  // Short-lived certificates (ACME) are renewed on disk; SIGHUP makes new connections use them, no restart.
  process.on('SIGHUP', () => {
    try {
      server.reloadTls();
      // Only a pair the server just accepted reaches coturn, which would report a bad one only in its own log.
      embeddedTurn?.reloadTls();
      console.log(`TLS certificate reloaded from ${tls.certFile}${embeddedTurn?.tlsPort ? ' (also for TURN over TLS)' : ''}`);
    } catch (err) {
      console.error(`TLS certificate not reloaded, the previous one stays in use: ${err instanceof Error ? err.message : String(err)}`);
    }
  });
}
// The phone/SIP gateway (GATEWAY=off disables it; SIP_* variables configure it, see the README) runs as a child
// process, so a crash in native WebRTC code cannot take signalling down.
if (process.env.GATEWAY !== 'off') await ensureTestNumberFree(server.store);
const gateway = process.env.GATEWAY === 'off' ? undefined : startGatewayProcess({
  server: server.internalUrl,
  mintToken: () => server.mintToken(GATEWAY_PEER_ID),
  ...(turn ? { iceServers: () => server.serviceIceServers(GATEWAY_PEER_ID) } : {}),
  authorize: storeAuthorizer(server.store),
});
if (gateway) server.addHealthCheck('gateway', () => gateway.pid !== undefined);
if (embeddedTurn) server.addHealthCheck('turn', () => embeddedTurn.pid !== undefined);
console.log(`calling-elements server: ${shown}  (signalling on /peerjs, demo at /)`);
console.log('Open the demo in two tabs with different user ids and call one from the other.');
console.log(`Data: ${databaseUrl ? databaseUrl.replace(/\/\/[^@/]*@/, '//…@') : dbPath}   REST API: ${shown}/api/v1 (OpenAPI at /api/v1/openapi.json)`);
if (turn) console.log(`TURN: ${turn.urls.join(', ')}${embeddedTurn ? ` (embedded coturn, pid ${embeddedTurn.pid})` : ''}, credentials for ${turn.ttl} s per signed-in client`);
if (conference) console.log(`Conferences: REST at ${shown}/api/v1/conferences, limits ${JSON.stringify({ ...DEFAULT_LIMITS, ...conferenceLimits })}`);
if (!apiKeys.length) {
  console.log('REST API keys for this run (set CALLING_APP_KEY/_SECRET and CALLING_ADMIN_KEY/_SECRET to choose your own):');
  for (const k of server.apiKeys) console.log(`  ${k.role.padEnd(5)}  ${k.key}:${k.secret}`);
}
if (devTokens && !server.devMode) console.warn('CALLING_DEV_TOKENS=1: GET /dev/token gives a token for ANY user id to anyone who reaches this loopback address.');
if (server.devMode) {
  const bar = '!'.repeat(100);
  console.warn(`\n${bar}\n!! DEMO MODE: CALLING_SECRET is not set. A signing secret was generated for this run, and\n` +
    '!! GET /dev/token?userId=… gives a token for ANY user id to ANYONE who can reach this server.\n' +
    '!! Fine on localhost for trying the demo; never expose it. Set CALLING_SECRET (>= 32 bytes) and mint\n' +
    `!! tokens from your backend with POST /api/v1/tokens: the dev endpoint then does not exist.\n${bar}\n`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    // One node of several: move its clients to the others first (see Cluster.drain).
    void (signal === 'SIGTERM' && server.cluster ? server.cluster.drain() : Promise.resolve()).then(() => gateway?.stop())
      .then(() => server.close()).then(() => embeddedTurn?.stop()).then(() => process.exit(0));
  });
}

function isLoopback(h: string): boolean {
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

function isTlsError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  return code.startsWith('ERR_OSSL') || /PEM|certificate|key values mismatch/i.test(String((err as Error).message));
}

function intFromEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number from 1 to 65535 (got "${raw}").`);
  return n;
}
