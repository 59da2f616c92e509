// The SQLite store: migrations, ledger arithmetic, rates, insufficient funds, restarts, concurrent writers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CallingError } from '../../src/core/errors.js';
import { MIGRATIONS } from '../../src/server/storage/migrations.js';
import { CallingStore, callCost } from '../../src/server/storage/store.js';
import { tempDir } from './server-support.js';

describe('calling store', () => {
  const tmp = tempDir();
  let store: CallingStore;
  before(() => {
    store = new CallingStore(join(tmp.dir, 'nested', 'calling.db'));
  });
  after(() => {
    store.close();
    tmp.remove();
  });

  test('a new file is created with every migration applied, in WAL mode', () => {
    assert.equal(store.schemaVersion, MIGRATIONS.length);
    assert.equal(store.db.pragma('journal_mode', { simple: true }), 'wal');
  });

  test('top-ups and charges keep balance and history in step', () => {
    assert.equal(store.getAccount('ann'), undefined);
    const t1 = store.topUp('ann', 500, 'welcome');
    const t2 = store.topUp('ann', 250);
    const c1 = store.charge('ann', 120, 'call to +46700000000', 'call-a');
    assert.deepEqual([t1.balanceAfter, t2.balanceAfter, c1?.balanceAfter], [500, 750, 630]);
    assert.equal(c1?.amount, -120);
    assert.equal(store.getAccount('ann')?.balance, 630);
    // The same call is never charged twice.
    assert.equal(store.charge('ann', 120, 'again', 'call-a'), undefined);
    assert.equal(store.getAccount('ann')?.balance, 630);
    const page = store.history('ann', { limit: 2, offset: 0 });
    assert.deepEqual(page.items.map((e) => [e.kind, e.amount, e.reason]), [['charge', -120, 'call to +46700000000'], ['topup', 250, 'top-up']]);
    assert.equal(page.nextOffset, 2);
    const rest = store.history('ann', { limit: 2, offset: 2 });
    assert.deepEqual(rest.items.map((e) => e.reason), ['welcome']);
    assert.equal(rest.nextOffset, null);
    const sum = store.history('ann', { limit: 100, offset: 0 }).items.reduce((s, e) => s + e.amount, 0);
    assert.equal(sum, store.getAccount('ann')?.balance);
    assert.throws(() => store.topUp('ann', 0), RangeError);
    assert.throws(() => store.topUp('ann', 1.5), RangeError);
  });

  test('calls cost per started minute of established time', () => {
    assert.equal(callCost(null, 10_000, 10), 0);
    assert.equal(callCost(0, 0, 10), 0);
    assert.equal(callCost(0, 1, 10), 10);
    assert.equal(callCost(0, 60_000, 10), 10);
    assert.equal(callCost(0, 60_001, 10), 20);
    assert.equal(callCost(1000, 1000 + 5 * 60_000 + 1, 7), 42);
  });

  test('the longest prefix decides the rate; unknown destinations have none', () => {
    store.setRate('46', 10, 'Sweden');
    store.setRate('467', 25, 'Sweden mobile');
    store.setRate('1', 5, 'NANP');
    assert.equal(store.rateFor('+46812345678')?.perMinute, 10);
    assert.equal(store.rateFor('+46701234567')?.perMinute, 25);
    assert.equal(store.rateFor('+14155550101')?.prefix, '1');
    assert.equal(store.rateFor('+44201234567'), undefined);
    assert.equal(store.rateFor('+46%'), undefined);
    assert.deepEqual(store.listRates().map((r) => r.prefix), ['1', '46', '467']);
  });

  test('the gateway check refuses a call the balance cannot cover with "insufficient funds"', () => {
    store.setRate('46', 10, 'Sweden');
    assert.throws(() => store.assertCanCallPhone('broke', '+46812345678'), (err: unknown) => {
      assert.ok(err instanceof CallingError);
      assert.equal(err.domain, 'api');
      assert.equal(err.code, 'insufficient-funds');
      assert.match(err.message, /^insufficient funds/);
      return true;
    });
    store.topUp('broke', 9);
    assert.throws(() => store.assertCanCallPhone('broke', '+46812345678'), /insufficient funds/);
    store.topUp('broke', 1);
    assert.equal(store.assertCanCallPhone('broke', '+46812345678').perMinute, 10);
    assert.throws(() => store.assertCanCallPhone('broke', '+44201234567'), (err: unknown) => err instanceof CallingError && err.code === 'no-rate');
  });

  test('ending a phone call charges the caller once; app-to-app calls are free', () => {
    store.setRate('46', 10, 'Sweden');
    store.topUp('carl', 100);
    store.callStarted({ callId: 'p1', caller: 'carl', callee: '+46812345678', calleePeer: 'calling-gateway', callType: 'phone', video: false, at: 1_000 });
    store.callEstablished('p1', 2_000);
    const ended = store.callEnded('p1', { at: 2_000 + 61_000, cause: 'hungUp', endedBy: 'calling-gateway' });
    assert.equal(ended?.cost, 20);
    assert.equal(store.getAccount('carl')?.balance, 80);
    assert.equal(store.callEnded('p1', { at: 999_999, cause: 'hungUp', endedBy: 'carl' }), undefined, 'first end wins');
    assert.equal(store.getAccount('carl')?.balance, 80);

    store.callStarted({ callId: 'u1', caller: 'carl', callee: 'dora', calleePeer: 'dora', callType: 'user', video: true, at: 1_000 });
    store.callEstablished('u1', 2_000);
    assert.equal(store.callEnded('u1', { at: 500_000, cause: 'hungUp', endedBy: 'dora' })?.cost, 0);
    assert.equal(store.getAccount('carl')?.balance, 80);

    store.callStarted({ callId: 'p2', caller: 'carl', callee: '+46812345678', calleePeer: 'calling-gateway', callType: 'phone', video: false, at: 1_000 });
    assert.equal(store.callEnded('p2', { at: 50_000, cause: 'noAnswer', endedBy: 'calling-gateway' })?.cost, 0, 'unanswered calls are free');
    assert.equal(store.getAccount('carl')?.balance, 80);
  });

  test('call records are paginated newest first and filtered by user', () => {
    for (let i = 0; i < 5; i++) {
      store.callStarted({ callId: `page-${i}`, caller: 'pia', callee: i % 2 ? 'quinn' : 'rob', calleePeer: i % 2 ? 'quinn' : 'rob', callType: 'user', video: false, at: 10_000 + i });
    }
    const first = store.listCalls({ user: 'pia', limit: 2, offset: 0 });
    assert.deepEqual(first.items.map((c) => c.callId), ['page-4', 'page-3']);
    assert.equal(first.nextOffset, 2);
    assert.deepEqual(store.listCalls({ user: 'quinn', limit: 10, offset: 0 }).items.map((c) => c.callId), ['page-3', 'page-1']);
    assert.equal(store.listCalls({ user: 'pia', limit: 10, offset: 4 }).nextOffset, null);
  });
});

describe('durability', () => {
  test('data survives closing and reopening the file, and migrations do not run twice', () => {
    const tmp = tempDir();
    const file = join(tmp.dir, 'calling.db');
    try {
      const a = new CallingStore(file);
      a.topUp('sam', 42, 'before restart');
      a.setRate('49', 3, 'Germany');
      a.callStarted({ callId: 'c1', caller: 'sam', callee: 'tess', calleePeer: 'tess', callType: 'user', video: false, at: 5 });
      a.close();
      const b = new CallingStore(file);
      assert.equal(b.schemaVersion, MIGRATIONS.length);
      assert.equal(b.getAccount('sam')?.balance, 42);
      assert.equal(b.rateFor('+4930123456')?.perMinute, 3);
      assert.equal(b.getCall('c1')?.callee, 'tess');
      b.close();
    } finally {
      tmp.remove();
    }
  });

  test('two processes topping up the same account at once lose no write', async () => {
    const tmp = tempDir();
    const file = join(tmp.dir, 'shared.db');
    const script = `
      import { CallingStore } from ${JSON.stringify(new URL('../../src/server/storage/store.ts', import.meta.url).href)};
      const s = new CallingStore(process.argv[1]);
      for (let i = 0; i < 200; i++) s.topUp('shared', 1, 'worker ' + process.pid);
      s.close();
    `;
    const run = () => new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(code) : reject(new Error(`worker failed: ${err}`))));
    });
    try {
      new CallingStore(file).close();
      await Promise.all([run(), run(), run()]);
      const s = new CallingStore(file);
      assert.equal(s.getAccount('shared')?.balance, 600);
      assert.equal(s.history('shared', { limit: 100, offset: 0 }).nextOffset, 100);
      const last = s.history('shared', { limit: 1, offset: 0 }).items[0];
      assert.equal(last?.balanceAfter, 600);
      s.close();
    } finally {
      tmp.remove();
    }
  });
});
