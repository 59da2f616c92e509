// The REST API over real HTTP: Basic auth, validation (400 names the field), 404, no stack traces, rate limiting,
// and the OpenAPI document matching the routes that exist.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { Router } from 'express';
import { startCallingServer, type CallingServer } from '../../src/server/calling-server.js';
import { verifyToken } from '../../src/server/auth/tokens.js';
import { basic, handshake, tempDir } from './server-support.js';

const SECRET = 'api-test-secret-with-plenty-of-bytes-in-it';
const APP = { key: 'app-key', secret: 'app-secret', role: 'app' as const };
const ADMIN = { key: 'admin-key', secret: 'admin-secret', role: 'admin' as const };

interface ApiError { error: { code: string; message: string; field?: string } }

describe('REST API', () => {
  const tmp = tempDir();
  let server: CallingServer;
  let api: (path: string, init?: { method?: string; body?: unknown; auth?: string | null; raw?: string }) => Promise<{ status: number; headers: Headers; json: unknown; text: string }>;

  before(async () => {
    server = await startCallingServer({
      port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET, dbPath: join(tmp.dir, 'api.db'),
      apiKeys: [APP, ADMIN], apiRateLimit: { perSecond: 1000, burst: 1000 },
    });
    api = async (path, init = {}) => {
      const headers: Record<string, string> = {};
      const auth = init.auth === undefined ? basic(APP) : init.auth;
      if (auth) headers.authorization = auth;
      let body: string | undefined;
      if (init.raw !== undefined || init.body !== undefined) {
        headers['content-type'] = 'application/json';
        body = init.raw ?? JSON.stringify(init.body);
      }
      const res = await fetch(`${server.url}/api/v1${path}`, { method: init.method ?? 'GET', headers, redirect: 'manual', ...(body === undefined ? {} : { body }) });
      const text = await res.text();
      let json: unknown;
      try { json = JSON.parse(text); } catch { json = undefined; }
      return { status: res.status, headers: res.headers, json, text };
    };
  });
  after(async () => {
    await server.close();
    tmp.remove();
  });

  test('requests without the right key and secret are refused with 401', async () => {
    for (const auth of [null, 'Basic ' + Buffer.from('app-key:wrong').toString('base64'), 'Bearer abc', 'Basic !!!']) {
      const r = await api('/rates', { auth });
      assert.equal(r.status, 401);
      assert.equal((r.json as ApiError).error.code, 'unauthorized');
      assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
    }
  });

  test('the app backend mints user tokens that open a signalling connection', async () => {
    const r = await api('/tokens', { method: 'POST', body: { userId: 'olga', ttlSeconds: 600 } });
    assert.equal(r.status, 201);
    const { token, expiresAt } = r.json as { token: string; expiresAt: string };
    assert.ok(Date.parse(expiresAt) > Date.now() + 500_000);
    assert.equal((await verifyToken(SECRET, token, 'olga')).sub, 'olga');
    const { ws, first } = await handshake(server, 'olga', token);
    assert.equal(first?.type, 'OPEN');
    ws.close();
    const reserved = await api('/tokens', { method: 'POST', body: { userId: 'calling-gateway' } });
    assert.equal(reserved.status, 400);
    assert.equal((reserved.json as ApiError).error.field, 'userId');
  });

  test('bad bodies get 400 with a message that names the field', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['POST', '/tokens', {}, 'userId'],
      ['POST', '/tokens', { userId: 'a b' }, 'userId'],
      ['POST', '/tokens', { userId: 'ok', ttlSeconds: 'long' }, 'ttlSeconds'],
      ['POST', '/tokens', { userId: 'ok', ttlSeconds: 10 ** 9 }, 'ttlSeconds'],
      ['POST', '/tokens', { userId: 'ok', admin: true }, 'admin'],
      ['POST', '/tokens', [1, 2], 'body'],
      ['POST', '/accounts/pat/top-ups', { amount: -5 }, 'amount'],
      ['POST', '/accounts/pat/top-ups', { amount: 1.5 }, 'amount'],
      ['POST', '/accounts/pat/top-ups', { amount: 10, reason: 'x'.repeat(500) }, 'reason'],
      ['PUT', '/rates/46', { perMinute: '10' }, 'perMinute'],
      ['PUT', '/rates/+46', { perMinute: 10 }, 'prefix'],
      ['POST', '/phone-checks', { userId: 'pat', number: '0701234567' }, 'number'],
      ['GET', '/calls?limit=1000', undefined, 'limit'],
      ['GET', '/calls?offset=-1', undefined, 'offset'],
      ['GET', '/calls?sort=asc', undefined, 'sort'],
      ['GET', '/accounts/bad%20id', undefined, 'userId'],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api(path, { method, body, auth: basic(ADMIN) });
      assert.equal(r.status, 400, `${method} ${path} ${JSON.stringify(body)} → ${r.status} ${r.text}`);
      const err = (r.json as ApiError).error;
      assert.equal(err.field, field, `${method} ${path}: ${err.message}`);
      assert.ok(err.message.startsWith(`${field}: `), err.message);
    }
    const malformed = await api('/tokens', { method: 'POST', raw: '{"userId": ' });
    assert.equal(malformed.status, 400);
    assert.equal((malformed.json as ApiError).error.message, 'body: not valid JSON');
    assert.doesNotMatch(malformed.text, /at \w+ \(|node_modules|\.ts:/, 'no stack trace');
  });

  test('unknown routes get 404 as JSON, without a stack trace', async () => {
    for (const [method, path] of [['GET', '/nope'], ['DELETE', '/tokens'], ['GET', '/accounts'], ['POST', '/calls']] as const) {
      const r = await api(path, { method, auth: null });
      assert.equal(r.status, 404, `${method} ${path}`);
      assert.equal((r.json as ApiError).error.code, 'not-found');
    }
    const huge = await api('/tokens', { method: 'POST', raw: JSON.stringify({ userId: 'x'.repeat(40_000) }) });
    assert.equal(huge.status, 413);
    assert.doesNotMatch(huge.text, /at \w+ \(|node_modules/);
  });

  test('accounts: balance, admin top-ups and history; app keys cannot top up', async () => {
    assert.deepEqual((await api('/accounts/quentin')).json, { userId: 'quentin', balance: 0, createdAt: null });
    const denied = await api('/accounts/quentin/top-ups', { method: 'POST', body: { amount: 100 } });
    assert.equal(denied.status, 403);
    const t = await api('/accounts/quentin/top-ups', { method: 'POST', body: { amount: 100, reason: 'promo' }, auth: basic(ADMIN) });
    assert.equal(t.status, 201);
    assert.deepEqual([(t.json as { balanceAfter: number }).balanceAfter, (t.json as { kind: string }).kind], [100, 'topup']);
    await api('/accounts/quentin/top-ups', { method: 'POST', body: { amount: 50 }, auth: basic(ADMIN) });
    assert.equal(((await api('/accounts/quentin')).json as { balance: number }).balance, 150);
    const history = (await api('/accounts/quentin/transactions?limit=1')).json as { items: Array<{ amount: number; reason: string; at: string }>; nextOffset: number | null };
    assert.deepEqual([history.items[0]?.amount, history.items[0]?.reason, history.nextOffset], [50, 'top-up', 1]);
    assert.match(history.items[0]?.at ?? '', /^\d{4}-\d\d-\d\dT/);
  });

  test('rates and the phone check: 402 insufficient funds, 422 no rate, 200 allowed', async () => {
    assert.equal((await api('/rates/46', { method: 'PUT', body: { perMinute: 10, description: 'Sweden' }, auth: basic(ADMIN) })).status, 200);
    assert.deepEqual((await api('/rates')).json, { items: [{ prefix: '46', perMinute: 10, description: 'Sweden' }] });
    const poor = await api('/phone-checks', { method: 'POST', body: { userId: 'rita', number: '+46812345678' } });
    assert.equal(poor.status, 402);
    assert.equal((poor.json as ApiError).error.code, 'insufficient-funds');
    assert.match((poor.json as ApiError).error.message, /^insufficient funds/);
    assert.equal((await api('/phone-checks', { method: 'POST', body: { userId: 'rita', number: '+44201234567' } })).status, 422);
    await api('/accounts/rita/top-ups', { method: 'POST', body: { amount: 10 }, auth: basic(ADMIN) });
    assert.equal((await api('/phone-checks', { method: 'POST', body: { userId: 'rita', number: '+46812345678' } })).status, 200);
    assert.equal((await api('/rates/46', { method: 'DELETE', auth: basic(ADMIN) })).status, 204);
    assert.equal((await api('/rates/46', { method: 'DELETE', auth: basic(ADMIN) })).status, 404);
  });

  test('call records: filter by user, paginate, fetch one; users online', async () => {
    for (let i = 0; i < 3; i++) {
      (await server.store.callStarted({ callId: `api-${i}`, caller: 'sven', callee: 'tina', calleePeer: 'tina', callType: 'user', video: false, at: 1000 + i }));
    }
    (await server.store.callEstablished('api-0', 2000));
    (await server.store.callEnded('api-0', { at: 62_000, cause: 'hungUp', endedBy: 'tina' }));
    const page = (await api('/calls?user=tina&limit=2')).json as { items: Array<{ callId: string }>; nextOffset: number | null };
    assert.deepEqual(page.items.map((c) => c.callId), ['api-2', 'api-1']);
    assert.equal(page.nextOffset, 2);
    const one = (await api('/calls/api-0')).json as { endCause: string; durationSeconds: number; establishedAt: string };
    assert.deepEqual([one.endCause, one.durationSeconds, one.establishedAt], ['hungUp', 60, new Date(2000).toISOString()]);
    assert.equal((await api('/calls/none')).status, 404);

    // Users, each once, with their devices: uma on two, vic only on a further device.
    const sockets = [
      await handshake(server, 'uma', await server.mintToken('uma')),
      await handshake(server, 'uma tab1', await server.mintToken('uma')),
      await handshake(server, 'vic phone', await server.mintToken('vic')),
    ];
    const online = (await api('/users/online')).json as { users: string[]; items: Array<{ userId: string; devices: string[] }> };
    assert.ok(online.users.includes('uma') && online.users.includes('vic'));
    assert.equal(online.users.filter((u) => u === 'uma').length, 1);
    assert.ok(online.users.every((u) => !u.includes(' ')), 'user ids only');
    assert.deepEqual(online.users, [...online.users].sort());
    assert.deepEqual(online.items.find((i) => i.userId === 'uma')?.devices, ['uma', 'uma tab1']);
    assert.deepEqual(online.items.find((i) => i.userId === 'vic')?.devices, ['vic phone']);
    assert.deepEqual(online.items.map((i) => i.userId), online.users);
    for (const { ws } of sockets) ws.close();
  });

  test('the OpenAPI 3.1 document describes exactly the routes that exist, and each answers as documented', async () => {
    const r = await api('/openapi.json', { auth: null });
    assert.equal(r.status, 200);
    const doc = r.json as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown>; requestBody?: { content: Record<string, { schema: { properties?: object } }> } }>> };
    assert.equal(doc.openapi, '3.1.0');

    // The routes registered in Express, from the routers themselves: the main API and the conference routes
    // mounted in front of it at /api/v1/conferences. One document describes both.
    const stack = (server.app as unknown as { _router: { stack: Array<{ name: string; regexp: RegExp; handle: Router & { stack?: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } }> } })._router.stack;
    const layer = stack.find((l) => l.name === 'router' && l.regexp.test('/api/v1/'));
    const conferenceLayer = stack.find((l) => l.name === 'router' && l.regexp.test('/api/v1/conferences/') && !l.regexp.test('/api/v1/'));
    assert.ok(layer, 'the API router is mounted');
    assert.ok(conferenceLayer, 'the conference router is mounted');
    const registered = new Set<string>();
    for (const [prefix, l0] of [['', layer], ['/conferences', conferenceLayer]] as const) {
      for (const l of l0.handle.stack ?? []) {
        if (!l.route) continue;
        const path = l.route.path === '/' && prefix ? prefix : prefix + l.route.path.replace(/:(\w+)/g, '{$1}');
        for (const m of Object.keys(l.route.methods)) registered.add(`${m.toUpperCase()} ${path}`);
      }
    }
    assert.ok(registered.has('POST /conferences/{id}/participants'));
    const documented = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    assert.deepEqual([...documented].sort(), [...registered].sort());

    // Every documented operation answers with a status it documents.
    const sample: Record<string, unknown> = {
      'POST /tokens': { userId: 'vera' },
      'POST /accounts/{userId}/top-ups': { amount: 5 },
      'PUT /rates/{prefix}': { perMinute: 1 },
      'POST /phone-checks': { userId: 'vera', number: '+46812345678' },
      // This server runs no conference service: the conference routes answer 503 (documented) after auth.
      'POST /conferences/{id}/participants': { userId: 'vera' },
      'PATCH /conferences/{id}/participants/{pid}': { muted: true },
    };
    for (const op of documented) {
      const [method, path] = op.split(' ') as [string, string];
      const concrete = path.replace('{userId}', 'vera').replace('{prefix}', '49').replace('{callId}', 'api-0').replace('{id}', 'standup').replace('{pid}', 'vera');
      const res = await api(concrete, { method, body: sample[op], auth: basic(ADMIN) });
      const statuses = Object.keys(doc.paths[path]![method.toLowerCase()]!.responses);
      assert.ok(statuses.includes(String(res.status)), `${op} answered ${res.status}, documents ${statuses.join(',')}`);
      assert.ok(res.status < 500 || (path.startsWith('/conferences') && res.status === 503), `${op} answered ${res.status}`);
      if (sample[op]) assert.ok(doc.paths[path]![method.toLowerCase()]!.requestBody, `${op} documents its body`);
    }
    assert.ok(doc.paths['/tokens']!.post!.requestBody!.content['application/json']!.schema.properties, 'body schemas come from the validators');
    assert.ok(doc.paths['/conferences/{id}/participants']!.post!.requestBody!.content['application/json']!.schema.properties, 'conference body schemas too');
    // The old URL of the conference routes' own document leads to this one.
    const old = await fetch(`${server.url}/api/v1/conferences/openapi.json`);
    assert.equal(old.url, `${server.url}/api/v1/openapi.json`);
    assert.deepEqual(await old.json(), doc);
  });
});

describe('REST rate limiting', () => {
  test('each key has its own budget; over it, 429 with Retry-After', async () => {
    const server = await startCallingServer({
      port: 0, host: '127.0.0.1', serveDemo: false, secret: SECRET, apiKeys: [APP, ADMIN], apiRateLimit: { perSecond: 0.5, burst: 3 },
    });
    try {
      const get = (key: { key: string; secret: string }) => fetch(`${server.url}/api/v1/rates`, { headers: { authorization: basic(key) } });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(APP)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429]);
      const limited = await get(APP);
      assert.equal(limited.status, 429);
      assert.ok(Number(limited.headers.get('retry-after')) >= 1);
      assert.equal(((await limited.json()) as ApiError).error.code, 'rate-limited');
      assert.equal((await get(ADMIN)).status, 200, 'another key is not affected');
    } finally {
      await server.close();
    }
  });
});
