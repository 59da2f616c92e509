/**
 * `CallingStorage` on PostgreSQL (`pg`), for several server nodes sharing accounts, credits and call records
 * (`DATABASE_URL=postgres://…`).
 *
 * Concurrency: every multi-statement write is one transaction. A balance change first locks the account row
 * (`SELECT … FOR UPDATE`), so two nodes charging or topping up one account queue behind each other and each ledger
 * row's `balance_after` is exact; a call's end locks the call row, so the first report wins and a call is charged
 * once (the unique charge-per-call index backs that up).
 */
import pg from 'pg';
import { PG_MIGRATIONS } from './migrations.js';
import {
  assertAmount, callCost, checkPhoneCall, HISTORY_SQL, invalidCursor, paginate, rateDigits, toCallRecord, toLedgerEntry,
  type Account, type CallEnd, type CallingStorage, type CallRecord, type CallRow, type CallStart, type LedgerEntry,
  type LedgerRow, type Page, type Rate,
} from './store.js';

type Queryable = Pick<pg.PoolClient, 'query'>;

const INT8 = 20;
const NUMERIC = 1700;
/** BIGINT columns (times in ms, credits) fit in a JS number; pg would hand them over as strings. */
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8 || oid === NUMERIC ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

/** A lock key for `pg_advisory_xact_lock`: nodes starting at once migrate one after the other. */
const MIGRATION_LOCK = 0x63616c6c;

export class PostgresStore implements CallingStorage {
  readonly kind = 'postgres';
  private readonly pool: pg.Pool;

  private constructor(readonly url: string, poolSize: number) {
    this.pool = new pg.Pool({ connectionString: url, max: poolSize, types });
    // An idle client losing its connection (database restart) must not crash the server; the pool replaces it.
    this.pool.on('error', () => undefined);
  }

  /** Connects and applies missing migrations. */
  static async open(url: string, options: { poolSize?: number } = {}): Promise<PostgresStore> {
    const store = new PostgresStore(url, options.poolSize ?? 10);
    try {
      await store.migrate();
    } catch (err) {
      await store.pool.end();
      throw err;
    }
    return store;
  }

  private async tx<T>(fn: (c: Queryable) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      const out = await fn(client);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }

  private async migrate(): Promise<void> {
    await this.tx(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await c.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
      const current = await version(c);
      for (let v = current; v < PG_MIGRATIONS.length; v++) {
        await c.query(PG_MIGRATIONS[v]!);
        await c.query('INSERT INTO schema_migrations (version, applied_at) VALUES ($1, $2)', [v + 1, Date.now()]);
      }
    });
  }

  async schemaVersion(): Promise<number> {
    return version(this.pool);
  }

  async writable(): Promise<boolean> {
    // A read-only standby or a full disk refuses this; an unreachable server makes the query fail.
    try {
      await this.pool.query('BEGIN; CREATE TEMP TABLE healthz_probe (x int); ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  // --- accounts and ledger --------------------------------------------------------------------------------------

  async getAccount(userId: string): Promise<Account | undefined> {
    return account(this.pool, userId);
  }

  async ensureAccount(userId: string): Promise<Account> {
    await ensure(this.pool, userId);
    return (await account(this.pool, userId))!;
  }

  async topUp(userId: string, amount: number, reason = 'top-up'): Promise<LedgerEntry> {
    assertAmount(amount, 'topup');
    return this.tx(async (c) => {
      await lockAccount(c, userId);
      return post(c, userId, 'topup', amount, reason, null);
    });
  }

  async charge(userId: string, amount: number, reason: string, callId: string): Promise<LedgerEntry | undefined> {
    assertAmount(amount, 'charge');
    return this.tx((c) => chargeInTransaction(c, userId, amount, reason, callId));
  }

  async history(userId: string, page: { limit: number; offset: number }): Promise<Page<LedgerEntry>> {
    const { rows } = await this.pool.query<LedgerRow>('SELECT * FROM ledger WHERE user_id = $1 ORDER BY id DESC LIMIT $2 OFFSET $3', [userId, page.limit + 1, page.offset]);
    return paginate(rows.map(toLedgerEntry), page);
  }

  // --- rates ----------------------------------------------------------------------------------------------------

  async setRate(prefix: string, perMinute: number, description = ''): Promise<Rate> {
    await this.pool.query(
      'INSERT INTO rates (prefix, per_minute, description) VALUES ($1, $2, $3) ON CONFLICT (prefix) DO UPDATE SET per_minute = excluded.per_minute, description = excluded.description',
      [prefix, perMinute, description],
    );
    return { prefix, perMinute, description };
  }

  async deleteRate(prefix: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM rates WHERE prefix = $1', [prefix])).rowCount ?? 0) > 0;
  }

  async listRates(): Promise<Rate[]> {
    const { rows } = await this.pool.query<{ prefix: string; per_minute: number; description: string }>('SELECT prefix, per_minute, description FROM rates ORDER BY prefix');
    return rows.map((r) => ({ prefix: r.prefix, perMinute: r.per_minute, description: r.description }));
  }

  async rateFor(number: string): Promise<Rate | undefined> {
    return rateFor(this.pool, number);
  }

  async assertCanCallPhone(userId: string, number: string): Promise<Rate> {
    const [rate, acct] = await Promise.all([rateFor(this.pool, number), account(this.pool, userId)]);
    return checkPhoneCall(number, rate, acct?.balance ?? 0);
  }

  // --- call detail records ----------------------------------------------------------------------------------------

  async callStarted(r: CallStart): Promise<boolean> {
    const res = await this.pool.query(
      'INSERT INTO calls (call_id, caller, callee, callee_peer, call_type, video, started_at, caller_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (call_id) DO NOTHING',
      [r.callId, r.caller, r.callee, r.calleePeer, r.callType, r.video ? 1 : 0, r.at, r.callerName ?? null],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async callEstablished(callId: string, at: number, answeredBy?: string): Promise<boolean> {
    const res = await this.pool.query(
      'UPDATE calls SET established_at = $1, callee_peer = COALESCE($2, callee_peer) WHERE call_id = $3 AND established_at IS NULL AND ended_at IS NULL',
      [at, answeredBy ?? null, callId],
    );
    return (res.rowCount ?? 0) > 0;
  }

  async callEnded(callId: string, end: CallEnd): Promise<CallRecord | undefined> {
    return this.tx(async (c) => {
      const row = (await c.query<CallRow>('SELECT * FROM calls WHERE call_id = $1 FOR UPDATE', [callId])).rows[0];
      if (!row || row.ended_at !== null) return undefined;
      let cost = 0;
      if (row.call_type === 'phone') {
        const rate = await rateFor(c, row.callee);
        cost = rate ? callCost(row.established_at, end.at, rate.perMinute) : 0;
        if (cost > 0) await chargeInTransaction(c, row.caller, cost, `call to ${row.callee}`, callId);
      }
      await c.query('UPDATE calls SET ended_at = $1, end_cause = $2, error = $3, ended_by = $4, cost = $5 WHERE call_id = $6',
        [end.at, end.cause, end.error ?? null, end.endedBy, cost, callId]);
      return toCallRecord({ ...row, ended_at: end.at, end_cause: end.cause, error: end.error ?? null, ended_by: end.endedBy, cost });
    });
  }

  async getCall(callId: string): Promise<CallRecord | undefined> {
    const row = (await this.pool.query<CallRow>('SELECT * FROM calls WHERE call_id = $1', [callId])).rows[0];
    return row && toCallRecord(row);
  }

  async listCalls(filter: { user?: string | undefined; limit: number; offset: number }): Promise<Page<CallRecord>> {
    const { rows } = filter.user === undefined
      ? await this.pool.query<CallRow>('SELECT * FROM calls ORDER BY started_at DESC, call_id LIMIT $1 OFFSET $2', [filter.limit + 1, filter.offset])
      : await this.pool.query<CallRow>('SELECT * FROM calls WHERE caller = $1 OR callee = $1 ORDER BY started_at DESC, call_id LIMIT $2 OFFSET $3',
        [filter.user, filter.limit + 1, filter.offset]);
    return paginate(rows.map(toCallRecord), filter);
  }

  async openCallsOf(peer: string): Promise<CallRecord[]> {
    const { rows } = await this.pool.query<CallRow>('SELECT * FROM calls WHERE ended_at IS NULL AND (caller = $1 OR callee_peer = $1)', [peer]);
    return rows.map(toCallRecord);
  }

  async callHistory(user: string, page: { limit: number; before?: string | undefined }): Promise<CallRecord[]> {
    if (page.before === undefined) return (await this.pool.query<CallRow>(HISTORY_SQL.first, [user, page.limit])).rows.map(toCallRecord);
    const cursor = (await this.pool.query<{ started_at: number; call_id: string }>(HISTORY_SQL.cursor, [user, page.before])).rows[0];
    if (!cursor) throw invalidCursor();
    return (await this.pool.query<CallRow>(HISTORY_SQL.after, [user, page.limit, cursor.started_at, cursor.call_id])).rows.map(toCallRecord);
  }
}

async function version(c: Queryable): Promise<number> {
  const { rows } = await c.query<{ v: number | null }>('SELECT max(version) AS v FROM schema_migrations');
  return rows[0]?.v ?? 0;
}

async function account(c: Queryable, userId: string): Promise<Account | undefined> {
  const row = (await c.query<{ user_id: string; balance: number; created_at: number }>(
    'SELECT user_id, balance, created_at FROM accounts WHERE user_id = $1', [userId])).rows[0];
  return row && { userId: row.user_id, balance: row.balance, createdAt: row.created_at };
}

async function ensure(c: Queryable, userId: string): Promise<void> {
  await c.query('INSERT INTO accounts (user_id, balance, created_at) VALUES ($1, 0, $2) ON CONFLICT (user_id) DO NOTHING', [userId, Date.now()]);
}

/** Creates the account if needed and locks its row until the transaction ends: balance changes queue up here. */
async function lockAccount(c: Queryable, userId: string): Promise<void> {
  await ensure(c, userId);
  await c.query('SELECT 1 FROM accounts WHERE user_id = $1 FOR UPDATE', [userId]);
}

async function chargeInTransaction(c: Queryable, userId: string, amount: number, reason: string, callId: string): Promise<LedgerEntry | undefined> {
  await lockAccount(c, userId);
  // After the lock: a concurrent charge of the same call (same caller, so same row) has committed or not started.
  const already = (await c.query("SELECT 1 FROM ledger WHERE call_id = $1 AND kind = 'charge'", [callId])).rowCount;
  if (already) return undefined;
  return post(c, userId, 'charge', -amount, reason, callId);
}

async function post(c: Queryable, userId: string, kind: 'topup' | 'charge', amount: number, reason: string, callId: string | null): Promise<LedgerEntry> {
  const { balance } = (await c.query<{ balance: number }>('UPDATE accounts SET balance = balance + $1 WHERE user_id = $2 RETURNING balance', [amount, userId])).rows[0]!;
  const at = Date.now();
  const { id } = (await c.query<{ id: number }>(
    'INSERT INTO ledger (user_id, kind, amount, balance_after, reason, call_id, at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
    [userId, kind, amount, balance, reason, callId, at])).rows[0]!;
  return { id, userId, kind, amount, balanceAfter: balance, reason, callId, at };
}

async function rateFor(c: Queryable, number: string): Promise<Rate | undefined> {
  const digits = rateDigits(number);
  if (digits === undefined) return undefined;
  const row = (await c.query<{ prefix: string; per_minute: number; description: string }>(
    "SELECT prefix, per_minute, description FROM rates WHERE $1 LIKE prefix || '%' ORDER BY length(prefix) DESC LIMIT 1", [digits])).rows[0];
  return row && { prefix: row.prefix, perMinute: row.per_minute, description: row.description };
}
