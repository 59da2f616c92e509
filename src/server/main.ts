/**
 * `npm start`: the calling server and the demo on http://localhost:9000 (PORT and HOST override).
 * CALLING_SECRET signs signalling tokens (without it: demo mode), CALLING_DB is the SQLite file (DATABASE_URL=postgres://…
 * uses PostgreSQL instead), CALLING_APP_KEY /
 * CALLING_APP_SECRET and CALLING_ADMIN_KEY / CALLING_ADMIN_SECRET are the REST API's Basic-auth credentials.
 */
import type { ApiKey } from './api/router.js';
import { startCallingServer } from './calling-server.js';
import { DEFAULT_DB_PATH } from './storage/store.js';
import { DEFAULT_LIMITS, limitsFromEnv } from './conference/index.js';
import { ensureTestNumberFree, startGatewayProcess, storeAuthorizer } from './gateway/launcher.js';
import { GATEWAY_PEER_ID } from '../core/protocol.js';

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

let conferenceLimits;
try {
  conferenceLimits = limitsFromEnv();
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
}
// Phone / SIP callouts into rooms go through the gateway when it runs.
const conference = process.env.CONFERENCE === 'off' ? false : { limits: conferenceLimits, gateway: process.env.GATEWAY !== 'off' };
const server = await startCallingServer({ port, host, dbPath, conference, ...(databaseUrl ? { databaseUrl } : {}), ...(redisUrl ? { redisUrl } : {}), ...(secret ? { secret } : {}), ...(apiKeys.length ? { apiKeys } : {}) });
const shown = host === '127.0.0.1' ? `http://localhost:${server.port}` : server.url;
// The phone/SIP gateway (GATEWAY=off disables it; SIP_* variables configure it, see the README) runs as a child
// process, so a crash in native WebRTC code cannot take signalling down.
if (process.env.GATEWAY !== 'off') await ensureTestNumberFree(server.store);
const gateway = process.env.GATEWAY === 'off' ? undefined : startGatewayProcess({
  server: host === '0.0.0.0' ? `http://127.0.0.1:${server.port}` : server.url,
  mintToken: () => server.mintToken(GATEWAY_PEER_ID),
  authorize: storeAuthorizer(server.store),
});
console.log(`calling-elements server: ${shown}  (signalling on /peerjs, demo at /)`);
console.log('Open the demo in two tabs with different user ids and call one from the other.');
console.log(`Data: ${databaseUrl ? databaseUrl.replace(/\/\/[^@/]*@/, '//…@') : dbPath}   REST API: ${shown}/api/v1 (OpenAPI at /api/v1/openapi.json)`);
if (conference) console.log(`Conferences: REST at ${shown}/api/v1/conferences, limits ${JSON.stringify({ ...DEFAULT_LIMITS, ...conferenceLimits })}`);
if (!apiKeys.length) {
  console.log('REST API keys for this run (set CALLING_APP_KEY/_SECRET and CALLING_ADMIN_KEY/_SECRET to choose your own):');
  for (const k of server.apiKeys) console.log(`  ${k.role.padEnd(5)}  ${k.key}:${k.secret}`);
}
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
      .then(() => server.close()).then(() => process.exit(0));
  });
}
