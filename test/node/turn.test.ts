// TURN credentials: minted per signed-in user, handed over on the signalling socket right after OPEN, renewed before
// they expire; and coturn itself (started through the embedded-TURN supervisor) accepts them and refuses forged or
// expired ones.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { EmbeddedTurn, coturnInstalled } from '../../src/server/turn/embedded.js';
import { mintTurnCredentials, turnSettingsFromEnv } from '../../src/server/turn/credentials.js';
import { turnAllocate, turnPermissions } from '../support/turn-allocate.js';
import WebSocket from 'ws';

const TTL = 6;
let turn: EmbeddedTurn;
let server: CallingServer;
const port = 35_000 + Math.floor(Math.random() * 2000);

before(async () => {
  assert.ok(coturnInstalled(), 'coturn (turnserver) is needed: apt-get install coturn');
  turn = await EmbeddedTurn.start({ port, minPort: port + 1, maxPort: port + 20, listeningIp: '127.0.0.1', allowLoopbackPeers: true });
  server = await startCallingServer({ port: 0, serveDemo: false, turn: { urls: [`turn:127.0.0.1:${port}?transport=udp`], secret: turn.secret, ttl: TTL } });
});

after(async () => {
  await server?.close();
  await turn?.stop();
});

/** A signalling connection that keeps every message from the first one on (OPEN, then what the server sends). */
async function connect(id: string, user = id): Promise<{ inbox: Array<{ type: string; payload?: unknown }>; next(type: string, ms: number): Promise<IceServersMessage>; close(): void }> {
  const q = new URLSearchParams({ key: 'peerjs', id, token: await server.mintToken(user), version: '1.5.5' });
  const ws = new WebSocket(`ws://127.0.0.1:${server.port}/peerjs/peerjs?${q}`);
  const inbox: Array<{ type: string; payload?: unknown }> = [];
  const waiters = new Set<() => void>();
  ws.on('message', (d) => { inbox.push(JSON.parse(d.toString()) as { type: string }); for (const w of waiters) w(); });
  let taken = 0;
  return {
    inbox,
    next: (type, ms) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`no ${type} within ${ms} ms`)); }, ms);
      const check = () => {
        const i = inbox.findIndex((m, j) => j >= taken && m.type === type);
        if (i < 0) return;
        taken = i + 1;
        clearTimeout(timer);
        waiters.delete(check);
        resolve(inbox[i] as IceServersMessage);
      };
      waiters.add(check);
      check();
    }),
    close: () => ws.close(),
  };
}

interface IceServersMessage { type: string; payload: { iceServers: Array<{ urls: string[]; username: string; credential: string }>; expiresAt: number } }

test('a signed-in client gets TURN credentials for its user as the message right after OPEN', async () => {
  const before = Date.now();
  const peer = await connect('alice phone1', 'alice');
  try {
    const m = await peer.next('ICE-SERVERS', 2000);
    assert.deepEqual(peer.inbox.slice(0, 2).map((x) => x.type), ['OPEN', 'ICE-SERVERS'], 'no other message comes first');
    const [ice] = m.payload.iceServers;
    assert.deepEqual(ice!.urls, [`turn:127.0.0.1:${port}?transport=udp`]);
    const [expiry, user] = ice!.username.split(':');
    assert.equal(user, 'alice');
    assert.ok(Math.abs(Number(expiry) * 1000 - (before + TTL * 1000)) < 2000);
    assert.equal(m.payload.expiresAt, Number(expiry) * 1000);
    assert.equal(ice!.credential, createHmac('sha1', turn.secret).update(ice!.username).digest('base64'));
    assert.equal(await turnAllocate('127.0.0.1', port, ice!.username, ice!.credential), 'allocated');
  } finally {
    peer.close();
  }
});

test('credentials are renewed before they expire while the client stays online', async () => {
  const peer = await connect('bob');
  try {
    const first = await peer.next('ICE-SERVERS', 2000);
    const second = await peer.next('ICE-SERVERS', TTL * 1000);
    assert.ok(Date.now() < first.payload.expiresAt, 'the new credentials arrive before the old ones expire');
    assert.ok(second.payload.expiresAt > first.payload.expiresAt);
  } finally {
    peer.close();
  }
});

test('coturn refuses forged, tampered and expired credentials (401)', async () => {
  const good = mintTurnCredentials({ urls: [], secret: turn.secret, ttl: 60 }, 'carol').iceServers[0]!;
  const username = good.username!;
  const forged = mintTurnCredentials({ urls: [], secret: 'not-the-secret-at-all', ttl: 60 }, 'carol').iceServers[0]!;
  assert.equal(await turnAllocate('127.0.0.1', port, forged.username!, String(forged.credential)), 401);
  assert.equal(await turnAllocate('127.0.0.1', port, username.replace(':carol', ':mallory'), String(good.credential)), 401);
  const expired = mintTurnCredentials({ urls: [], secret: turn.secret, ttl: 60 }, 'carol', Date.now() - 120_000).iceServers[0]!;
  assert.equal(await turnAllocate('127.0.0.1', port, expired.username!, String(expired.credential)), 401);
  assert.equal(await turnAllocate('127.0.0.1', port, username, String(good.credential)), 'allocated');
});

test('off a loopback HOST the embedded coturn refuses to relay into private, shared and link-local networks (403)', async () => {
  const p2 = port + 200;
  const own = await EmbeddedTurn.start({ port: p2, minPort: p2 + 1, maxPort: p2 + 10, listeningIp: '127.0.0.1' });
  try {
    const c = mintTurnCredentials({ urls: [], secret: own.secret, ttl: 60 }, 'mallory').iceServers[0]!;
    const internal = ['10.1.2.3', '172.16.0.1', '192.168.1.1', '100.64.0.1', '169.254.169.254', '127.0.0.1', '0.0.0.1'];
    const publicPeers = ['198.51.100.7', '203.0.113.5']; // documentation ranges: a permission sends nothing to them
    const answers = await turnPermissions('127.0.0.1', p2, c.username!, String(c.credential), [...internal, ...publicPeers]);
    assert.deepEqual(answers, Object.fromEntries([...internal.map((a) => [a, 403]), ...publicPeers.map((a) => [a, 'ok'])]));
  } finally {
    await own.stop();
  }
});

test('TURN_* settings: one clear message for each mistake', () => {
  assert.equal(turnSettingsFromEnv({}), undefined);
  assert.deepEqual(turnSettingsFromEnv({ TURN_URLS: 'turn:a.example:3478?transport=udp, turns:a.example:5349?transport=tcp', TURN_SECRET: 's'.repeat(16) }),
    { urls: ['turn:a.example:3478?transport=udp', 'turns:a.example:5349?transport=tcp'], secret: 's'.repeat(16), ttl: 3600 });
  assert.throws(() => turnSettingsFromEnv({ TURN_URLS: 'http://a.example', TURN_SECRET: 's'.repeat(16) }), /TURN_URLS: "http:\/\/a.example" is not a turn: or turns: URI/);
  assert.throws(() => turnSettingsFromEnv({ TURN_URLS: 'turn:a.example' }), /TURN_SECRET .* must be set/);
  assert.throws(() => turnSettingsFromEnv({ TURN_SECRET: 's'.repeat(16) }), /TURN_URLS is not/);
  assert.throws(() => turnSettingsFromEnv({ TURN_URLS: 'turn:a.example', TURN_SECRET: 's'.repeat(16), TURN_TTL: '1h' }), /TURN_TTL must be/);
});

test('the embedded coturn is restarted when it dies', async () => {
  const lines: string[] = [];
  const p2 = port + 100;
  const own = await EmbeddedTurn.start({ port: p2, minPort: p2 + 1, maxPort: p2 + 10, listeningIp: '127.0.0.1', log: (l) => lines.push(l) });
  try {
    const pid = own.pid!;
    process.kill(pid, 'SIGKILL');
    const end = Date.now() + 8000;
    while (!(own.pid && own.pid !== pid && (await own.answers(500))) && Date.now() < end) await new Promise((r) => setTimeout(r, 200));
    assert.notEqual(own.pid, pid);
    assert.ok(await own.answers(), 'the restarted coturn answers');
    assert.match(lines[0] ?? '', /^coturn exited \(SIGKILL\); restarting in 1000 ms$/);
  } finally {
    await own.stop();
  }
});

test('the gateway\'s and conference\'s legs get credentials coturn accepts, for the length of their run', async () => {
  const [ice] = server.serviceIceServers('calling-conference');
  assert.match(ice!.username!, /^\d+:calling-conference$/);
  const days = (Number(ice!.username!.split(':')[0]) * 1000 - Date.now()) / 86_400_000;
  assert.ok(days > 29 && days <= 30, `${days} days`);
  assert.equal(await turnAllocate('127.0.0.1', port, ice!.username!, String(ice!.credential)), 'allocated');
  const plain = await startCallingServer({ port: 0, serveDemo: false });
  try {
    assert.deepEqual(plain.serviceIceServers('calling-gateway'), [], 'without TURN: none');
  } finally {
    await plain.close();
  }
});
