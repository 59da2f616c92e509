// The storage suite, run against both implementations: SQLite (always) and PostgreSQL (a throwaway cluster started
// here; skipped with the reason when the binaries are missing). Migrations, ledger arithmetic, rates, insufficient
// funds, restarts, and writers in several processes at once.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CallingError } from '../../src/core/errors.js';
import { MIGRATIONS, PG_MIGRATIONS } from '../../src/server/storage/migrations.js';
import { openStorage } from '../../src/server/storage/open.js';
import { CallingStore, callCost, type CallingStorage } from '../../src/server/storage/store.js';
import { tempDir } from './server-support.js';
import { postgresMissing, startPostgres, type ThrowawayPostgres } from './storage-support.js';

interface Backend {
  name: 'sqlite' | 'postgres';
  skip: string | undefined;
  /** Storage options for a fresh, empty database of this kind; `shared` names one several openers reach. */
  setup(): Promise<void>;
  options(name: string): { databaseUrl?: string; dbPath?: string };
  teardown(): void;
}

const tmp = tempDir();
let pgCluster: ThrowawayPostgres | undefined;
const pgDatabases = new Map<string, string>();
const BACKENDS: Backend[] = [
  {
    name: 'sqlite', skip: undefined,
    setup: async () => undefined,
    options: (name) => ({ dbPath: join(tmp.dir, 'nested', `${name}.db`) }),
    teardown: () => undefined,
  },
  {
    name: 'postgres', skip: postgresMissing(),
    setup: async () => { pgCluster = await startPostgres(); },
    options: (name) => {
      let url = pgDatabases.get(name);
      if (!url) pgDatabases.set(name, (url = pgCluster!.createDatabase(name.toLowerCase().replace(/[^a-z0-9]/g, '_'))));
      return { databaseUrl: url };
    },
    teardown: () => pgCluster?.stop(),
  },
];

after(() => tmp.remove());

/** Runs `script` (an ES module body; `storage` is open on argv[1] as JSON options) in a separate Node process. */
function runWorker(options: object, body: string): Promise<void> {
  const script = `
    import { openStorage } from ${JSON.stringify(new URL('../../src/server/storage/open.ts', import.meta.url).href)};
    const storage = await openStorage(JSON.parse(process.argv[1]));
    ${body}
    await storage.close();
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, JSON.stringify(options)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker failed: ${err}`))));
  });
}

for (const backend of BACKENDS) {
describe(`storage on ${backend.name}`, { skip: backend.skip }, () => {
  let store: CallingStorage;
  before(async () => {
    await backend.setup();
    store = await openStorage(backend.options('main'));
  });
  after(async () => {
    await store?.close();
    backend.teardown();
  });

  test('a new database gets every migration applied', async () => {
    assert.equal(store.kind, backend.name);
    assert.equal(await store.schemaVersion(), backend.name === 'sqlite' ? MIGRATIONS.length : PG_MIGRATIONS.length);
    if (store instanceof CallingStore) assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  });

  test('top-ups and charges keep balance and history in step', async () => {
    assert.equal((await store.getAccount('ann')), undefined);
    const t1 = (await store.topUp('ann', 500, 'welcome'));
    const t2 = (await store.topUp('ann', 250));
    const c1 = (await store.charge('ann', 120, 'call to +46700000000', 'call-a'));
    assert.deepEqual([t1.balanceAfter, t2.balanceAfter, c1?.balanceAfter], [500, 750, 630]);
    assert.equal(c1?.amount, -120);
    assert.equal((await store.getAccount('ann'))?.balance, 630);
    // The same call is never charged twice.
    assert.equal((await store.charge('ann', 120, 'again', 'call-a')), undefined);
    assert.equal((await store.getAccount('ann'))?.balance, 630);
    const page = (await store.history('ann', { limit: 2, offset: 0 }));
    assert.deepEqual(page.items.map((e) => [e.kind, e.amount, e.reason]), [['charge', -120, 'call to +46700000000'], ['topup', 250, 'top-up']]);
    assert.equal(page.nextOffset, 2);
    const rest = (await store.history('ann', { limit: 2, offset: 2 }));
    assert.deepEqual(rest.items.map((e) => e.reason), ['welcome']);
    assert.equal(rest.nextOffset, null);
    const sum = (await store.history('ann', { limit: 100, offset: 0 })).items.reduce((s, e) => s + e.amount, 0);
    assert.equal(sum, (await store.getAccount('ann'))?.balance);
    await assert.rejects(store.topUp('ann', 0), RangeError);
    await assert.rejects(store.topUp('ann', 1.5), RangeError);
  });

  test('calls cost per started minute of established time', async () => {
    assert.equal(callCost(null, 10_000, 10), 0);
    assert.equal(callCost(0, 0, 10), 0);
    assert.equal(callCost(0, 1, 10), 10);
    assert.equal(callCost(0, 60_000, 10), 10);
    assert.equal(callCost(0, 60_001, 10), 20);
    assert.equal(callCost(1000, 1000 + 5 * 60_000 + 1, 7), 42);
  });

  test('the longest prefix decides the rate; unknown destinations have none', async () => {
    await store.setRate('46', 10, 'Sweden');
    await store.setRate('467', 25, 'Sweden mobile');
    await store.setRate('1', 5, 'NANP');
    assert.equal((await store.rateFor('+46812345678'))?.perMinute, 10);
    assert.equal((await store.rateFor('+46701234567'))?.perMinute, 25);
    assert.equal((await store.rateFor('+14155550101'))?.prefix, '1');
    assert.equal((await store.rateFor('+44201234567')), undefined);
    assert.equal((await store.rateFor('+46%')), undefined);
    assert.deepEqual((await store.listRates()).map((r) => r.prefix), ['1', '46', '467']);
  });

  test('the gateway check refuses a call the balance cannot cover with "insufficient funds"', async () => {
    await store.setRate('46', 10, 'Sweden');
    await assert.rejects(store.assertCanCallPhone('broke', '+46812345678'), (err: unknown) => {
      assert.ok(err instanceof CallingError);
      assert.equal(err.domain, 'api');
      assert.equal(err.code, 'insufficient-funds');
      assert.match(err.message, /^insufficient funds/);
      return true;
    });
    await store.topUp('broke', 9);
    await assert.rejects(store.assertCanCallPhone('broke', '+46812345678'), /insufficient funds/);
    await store.topUp('broke', 1);
    assert.equal((await store.assertCanCallPhone('broke', '+46812345678')).perMinute, 10);
    await assert.rejects(store.assertCanCallPhone('broke', '+44201234567'), (err: unknown) => err instanceof CallingError && err.code === 'no-rate');
  });

  test('ending a phone call charges the caller once; app-to-app calls are free', async () => {
    await store.setRate('46', 10, 'Sweden');
    await store.topUp('carl', 100);
    await store.callStarted({ callId: 'p1', caller: 'carl', callee: '+46812345678', calleePeer: 'calling-gateway', callType: 'phone', video: false, at: 1_000 });
    await store.callEstablished('p1', 2_000);
    const ended = (await store.callEnded('p1', { at: 2_000 + 61_000, cause: 'hungUp', endedBy: 'calling-gateway' }));
    assert.equal(ended?.cost, 20);
    assert.equal((await store.getAccount('carl'))?.balance, 80);
    assert.equal((await store.callEnded('p1', { at: 999_999, cause: 'hungUp', endedBy: 'carl' })), undefined, 'first end wins');
    assert.equal((await store.getAccount('carl'))?.balance, 80);

    await store.callStarted({ callId: 'u1', caller: 'carl', callee: 'dora', calleePeer: 'dora', callType: 'user', video: true, at: 1_000 });
    await store.callEstablished('u1', 2_000);
    assert.equal((await store.callEnded('u1', { at: 500_000, cause: 'hungUp', endedBy: 'dora' }))?.cost, 0);
    assert.equal((await store.getAccount('carl'))?.balance, 80);

    await store.callStarted({ callId: 'p2', caller: 'carl', callee: '+46812345678', calleePeer: 'calling-gateway', callType: 'phone', video: false, at: 1_000 });
    assert.equal((await store.callEnded('p2', { at: 50_000, cause: 'noAnswer', endedBy: 'calling-gateway' }))?.cost, 0, 'unanswered calls are free');
    assert.equal((await store.getAccount('carl'))?.balance, 80);
  });

  test('call records are paginated newest first and filtered by user', async () => {
    for (let i = 0; i < 5; i++) {
      await store.callStarted({ callId: `page-${i}`, caller: 'pia', callee: i % 2 ? 'quinn' : 'rob', calleePeer: i % 2 ? 'quinn' : 'rob', callType: 'user', video: false, at: 10_000 + i });
    }
    const first = (await store.listCalls({ user: 'pia', limit: 2, offset: 0 }));
    assert.deepEqual(first.items.map((c) => c.callId), ['page-4', 'page-3']);
    assert.equal(first.nextOffset, 2);
    assert.deepEqual((await store.listCalls({ user: 'quinn', limit: 10, offset: 0 })).items.map((c) => c.callId), ['page-3', 'page-1']);
    assert.equal((await store.listCalls({ user: 'pia', limit: 10, offset: 4 })).nextOffset, null);
  });

  test("a user's call history: own ended calls only, newest first, paged by call id", async () => {
    const start = (callId: string, caller: string, callee: string, at: number, extra: { callType?: 'user' | 'phone' | 'conference'; callerName?: string } = {}) =>
      store.callStarted({ callId, caller, callee, calleePeer: callee, callType: extra.callType ?? 'user', video: false, at, callerName: extra.callerName });
    await start('h1', 'hana', 'ivan', 100_000, { callerName: 'Hana H' });
    await store.callEstablished('h1', 101_000);
    await store.callEnded('h1', { at: 131_000, cause: 'hungUp', endedBy: 'ivan' });
    await start('h2', 'ivan', 'hana', 200_000, { callerName: 'Ivan I' });
    await store.callEnded('h2', { at: 210_000, cause: 'noAnswer', endedBy: 'ivan' });
    await start('h3', 'hana', '+46812345678', 300_000, { callType: 'phone' });
    await store.callEnded('h3', { at: 305_000, cause: 'denied', endedBy: 'calling-gateway' });
    // Same start time as h3: the call id orders them, and paging neither repeats nor skips one.
    await start('h4', 'jon', 'hana', 300_000);
    await store.callEnded('h4', { at: 301_000, cause: 'canceled', endedBy: 'jon' });
    await start('h5', 'hana', 'ivan', 400_000); // still ringing: not history yet
    await start('x1', 'ivan', 'jon', 350_000); // not hana's
    await store.callEnded('x1', { at: 351_000, cause: 'hungUp', endedBy: 'jon' });
    await start('x2', 'ivan', 'hana', 360_000, { callType: 'conference' }); // a room that happens to be called "hana"
    await store.callEnded('x2', { at: 361_000, cause: 'hungUp', endedBy: 'calling-conference' });

    const all = await store.callHistory('hana', { limit: 100 });
    assert.deepEqual(all.map((c) => c.callId), ['h3', 'h4', 'h2', 'h1']);
    assert.deepEqual(all.map((c) => c.callerName), [null, null, 'Ivan I', 'Hana H']);
    const pages: string[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await store.callHistory('hana', { limit: 3, before });
      pages.push(page.map((c) => c.callId));
      if (page.length < 3) break;
      before = page.at(-1)!.callId;
    }
    assert.deepEqual(pages, [['h3', 'h4', 'h2'], ['h1']]);
    assert.deepEqual((await store.callHistory('hana', { limit: 1, before: 'h3' })).map((c) => c.callId), ['h4']);
    assert.deepEqual((await store.callHistory('ivan', { limit: 10 })).map((c) => c.callId), ['x2', 'x1', 'h2', 'h1']);
    // A cursor must be one of the user's own ended calls: someone else's call tells nothing about it.
    for (const cursor of ['x1', 'h5', 'nope']) {
      await assert.rejects(store.callHistory('hana', { limit: 10, before: cursor }),
        (err: unknown) => err instanceof CallingError && err.domain === 'argument' && err.code === 'invalid-cursor');
    }
    assert.deepEqual(await store.callHistory('nobody', { limit: 10 }), []);
  });

  test('data survives closing and reopening, and migrations do not run twice', async () => {
    const options = backend.options('restart');
    const a = await openStorage(options);
    await a.topUp('sam', 42, 'before restart');
    await a.setRate('49', 3, 'Germany');
    await a.callStarted({ callId: 'c1', caller: 'sam', callee: 'tess', calleePeer: 'tess', callType: 'user', video: false, at: 5 });
    await a.close();
    const b = await openStorage(options);
    assert.equal(await b.schemaVersion(), backend.name === 'sqlite' ? MIGRATIONS.length : PG_MIGRATIONS.length);
    assert.equal((await b.getAccount('sam'))?.balance, 42);
    assert.equal((await b.rateFor('+4930123456'))?.perMinute, 3);
    assert.equal((await b.getCall('c1'))?.callee, 'tess');
    await b.close();
  });

  test('two processes topping up one account at once lose no write', async () => {
    const options = backend.options('shared');
    await (await openStorage(options)).close();
    const body = "await Promise.all(Array.from({ length: 150 }, () => storage.topUp('shared', 1, 'worker ' + process.pid)));";
    await Promise.all([runWorker(options, body), runWorker(options, body)]);
    const s = await openStorage(options);
    assert.equal((await s.getAccount('shared'))?.balance, 300);
    assert.equal((await s.history('shared', { limit: 100, offset: 0 })).nextOffset, 100);
    assert.equal((await s.history('shared', { limit: 1, offset: 0 })).items[0]?.balanceAfter, 300);
    await s.close();
  });

  test('two processes ending the same phone calls at once charge each call exactly once', async () => {
    // Two nodes both see the end of each call (each party reports it on its own node): the first end wins, and the
    // caller is charged once per call with every ledger balance exact.
    const options = backend.options('charges');
    const s = await openStorage(options);
    await s.setRate('46', 7, 'Sweden');
    await s.topUp('payer', 10_000);
    const calls = 40;
    for (let i = 0; i < calls; i++) {
      await s.callStarted({ callId: `pc-${i}`, caller: 'payer', callee: '+46812345678', calleePeer: 'calling-gateway', callType: 'phone', video: false, at: 1_000 });
      await s.callEstablished(`pc-${i}`, 2_000);
    }
    // Each worker ends every call (a 61 s call: two started minutes, 14 credits) and also charges the account
    // directly for its own calls, so the same row is locked from both processes all the time.
    const body = `
      const who = process.argv[2];
      await Promise.all(Array.from({ length: ${calls} }, async (_, i) => {
        await storage.callEnded('pc-' + i, { at: 2_000 + 61_000, cause: 'hungUp', endedBy: who });
        await storage.charge('payer', 1, 'extra', who + '-extra-' + i);
      }));
    `;
    const run = (who: string) => runWorker(options, body.replace('process.argv[2]', JSON.stringify(who)));
    await Promise.all([run('node-a'), run('node-b')]);
    const balance = (await s.getAccount('payer'))?.balance;
    assert.equal(balance, 10_000 - calls * 14 - 2 * calls);
    const ledger = (await s.history('payer', { limit: 1000, offset: 0 })).items;
    assert.equal(ledger.filter((e) => e.reason === 'call to +46812345678').length, calls, 'one charge per call');
    // Every balance_after follows from the one before it: no lost or interleaved update.
    const oldestFirst = [...ledger].reverse();
    let running = 0;
    for (const e of oldestFirst) {
      running += e.amount;
      assert.equal(e.balanceAfter, running);
    }
    const ended = await Promise.all(Array.from({ length: calls }, (_, i) => s.getCall(`pc-${i}`)));
    assert.ok(ended.every((c) => c?.endedAt === 63_000 && c.cost === 14));
    await s.close();
  });
});
}
