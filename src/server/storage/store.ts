/**
 * The calling server's data: accounts with a credit ledger, the rate table, and call detail records, behind one
 * interface (`CallingStorage`) with two implementations: SQLite (`CallingStore`, better-sqlite3, the default: one
 * file, default `data/calling.db` or `CALLING_DB`, WAL mode) and PostgreSQL (`PostgresStore` in `postgres.ts`, with
 * `DATABASE_URL=postgres://…`, for several server nodes). `openStorage` picks one. Both run versioned migrations.
 *
 * SQLite:
 * Concurrency: better-sqlite3 is synchronous, so writes from one process never interleave; every multi-statement
 * write runs in an IMMEDIATE transaction and `busy_timeout` waits for other processes' writers, so several processes
 * may share the file. Balances only change together with a ledger row, in one transaction.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { CallingError } from '../../core/errors.js';
import type { CallEndCause, CallType } from '../../core/types.js';
import { MIGRATIONS } from './migrations.js';

export interface Account {
  userId: string;
  /** In credits (the minor unit, e.g. cents). May go below zero when a call outlasts the balance. */
  balance: number;
  createdAt: number;
}

export interface LedgerEntry {
  id: number;
  userId: string;
  kind: 'topup' | 'charge';
  /** Positive for top-ups, negative for charges. */
  amount: number;
  balanceAfter: number;
  reason: string;
  callId: string | null;
  at: number;
}

export interface Rate {
  /** E.164 country (or longer) prefix without '+', e.g. "46" or "1415". */
  prefix: string;
  /** Credits per started minute. */
  perMinute: number;
  description: string;
}

/** End causes in records: the SDK's, plus `signallingLost` when a party vanished without reporting the end. */
export type RecordedEndCause = CallEndCause | 'signallingLost';

export interface CallRecord {
  callId: string;
  caller: string;
  /** The caller's display name as its invite gave it (plain text), or null. */
  callerName: string | null;
  /** User id, E.164 number, SIP identity or conference id. */
  callee: string;
  /** The peer the call was sent to: the callee's user id, or the gateway's or conference service's id. */
  calleePeer: string;
  callType: CallType;
  video: boolean;
  startedAt: number;
  establishedAt: number | null;
  endedAt: number | null;
  endCause: RecordedEndCause | null;
  error: string | null;
  /** Who reported the end: a party's id, or `server`. */
  endedBy: string | null;
  cost: number;
}

export interface Page<T> {
  items: T[];
  /** Offset of the next page, or null on the last page. */
  nextOffset: number | null;
}

export interface CallRow {
  call_id: string; caller: string; callee: string; callee_peer: string; call_type: CallType; video: number; started_at: number;
  established_at: number | null; ended_at: number | null; end_cause: RecordedEndCause | null; error: string | null;
  ended_by: string | null; cost: number; caller_name: string | null;
}
export interface LedgerRow {
  id: number; user_id: string; kind: 'topup' | 'charge'; amount: number; balance_after: number; reason: string;
  call_id: string | null; at: number;
}

/** The default database file, relative to the working directory. */
export const DEFAULT_DB_PATH = 'data/calling.db';

/** Credits for a call: per started minute of established time. 0 when the call never connected. */
export function callCost(establishedAt: number | null, endedAt: number, perMinute: number): number {
  if (establishedAt === null || endedAt <= establishedAt) return 0;
  return Math.ceil((endedAt - establishedAt) / 60_000) * perMinute;
}

/**
 * What the server stores. Every method is async (PostgreSQL answers over the network); the SQLite implementation
 * does its work synchronously and returns settled promises.
 */
export interface CallingStorage {
  /** `sqlite` or `postgres`. */
  readonly kind: 'sqlite' | 'postgres';
  /** Number of migrations applied. */
  schemaVersion(): Promise<number>;
  /** Whether the database takes a write now (for `/healthz`): false, never a throw, when it does not. */
  writable(): Promise<boolean>;
  close(): Promise<void>;
  getAccount(userId: string): Promise<Account | undefined>;
  /** The account, created with a zero balance if it did not exist. */
  ensureAccount(userId: string): Promise<Account>;
  /** Adds credits; returns the ledger entry. */
  topUp(userId: string, amount: number, reason?: string): Promise<LedgerEntry>;
  /**
   * Charges credits for a call (at most once per call: a second charge for the same call returns undefined).
   * The balance may go negative: the call already happened.
   */
  charge(userId: string, amount: number, reason: string, callId: string): Promise<LedgerEntry | undefined>;
  /** Ledger entries of an account, newest first. */
  history(userId: string, page: { limit: number; offset: number }): Promise<Page<LedgerEntry>>;
  setRate(prefix: string, perMinute: number, description?: string): Promise<Rate>;
  deleteRate(prefix: string): Promise<boolean>;
  listRates(): Promise<Rate[]>;
  /** The rate for an E.164 number ("+4670…"): the longest matching prefix, or undefined. */
  rateFor(number: string): Promise<Rate | undefined>;
  /**
   * The check the gateway makes before it places a phone call for `userId`: rejects with a `CallingError` with domain
   * `api` — code `insufficient-funds` ("insufficient funds") when the balance does not cover the first minute, or
   * `no-rate` when the destination has no rate (calls there are not allowed). Resolves to the rate otherwise.
   */
  assertCanCallPhone(userId: string, number: string): Promise<Rate>;
  /** Records the start of a call; false when a record with this id exists already. */
  callStarted(r: CallStart): Promise<boolean>;
  /**
   * Records that the call was answered and media set up (first time only; ignored once ended). `answeredBy`: the
   * callee's device that answered, when the call rang several (it becomes `calleePeer`).
   */
  callEstablished(callId: string, at: number, answeredBy?: string): Promise<boolean>;
  /**
   * Ends a call (first report wins) and, for phone calls, charges the caller per started minute of established time,
   * in the same transaction. Resolves to the final record, or undefined when the call is unknown or already ended.
   */
  callEnded(callId: string, end: CallEnd): Promise<CallRecord | undefined>;
  getCall(callId: string): Promise<CallRecord | undefined>;
  /** Call records, newest first; `user` keeps the calls where that user is caller or callee. */
  listCalls(filter: { user?: string | undefined; limit: number; offset: number }): Promise<Page<CallRecord>>;
  /** Calls that have not ended where `peer` is the caller or the peer called. */
  openCallsOf(peer: string): Promise<CallRecord[]>;
  /**
   * A user's own call history: the ended calls `user` placed or received (as a user call), newest first, `limit` of
   * them, after the call `before` (a call id from this history). Rejects with an `argument` CallingError
   * `invalid-cursor` when `before` is not one of this user's ended calls.
   */
  callHistory(user: string, page: { limit: number; before?: string | undefined }): Promise<CallRecord[]>;
}

export interface CallStart {
  callId: string; caller: string; callerName?: string | undefined; callee: string; calleePeer: string; callType: CallType; video: boolean; at: number;
}

/**
 * The call history queries, one SQL text for both databases (`$n` parameters: numbered in PostgreSQL, named `n` in
 * SQLite). A user's calls: those placed, and user calls received (a conference room named like the user is not them).
 */
const MY_ENDED_CALLS = "ended_at IS NOT NULL AND (caller = $1 OR (callee = $1 AND call_type = 'user'))";
export const HISTORY_SQL = {
  /** $1 user, $2 the cursor's call id. */
  cursor: `SELECT started_at, call_id FROM calls WHERE call_id = $2 AND ${MY_ENDED_CALLS}`,
  /** $1 user, $2 limit. */
  first: `SELECT * FROM calls WHERE ${MY_ENDED_CALLS} ORDER BY started_at DESC, call_id LIMIT $2`,
  /** $1 user, $2 limit, $3 and $4 the cursor's started_at and call id: the calls after it in the same order. */
  after: `SELECT * FROM calls WHERE ${MY_ENDED_CALLS} AND (started_at < $3 OR (started_at = $3 AND call_id > $4)) ORDER BY started_at DESC, call_id LIMIT $2`,
};

/** The `before` cursor that matches none of the user's calls. */
export function invalidCursor(): CallingError {
  return new CallingError('argument', 'invalid-cursor', 'before must be the callId of a call in this history.');
}
export interface CallEnd { at: number; cause: RecordedEndCause; error?: string | null; endedBy: string }

/** The digits of an E.164 number for a prefix lookup, or undefined when it is not one. */
export function rateDigits(number: string): string | undefined {
  const digits = number.replace(/^\+/, '');
  return /^[0-9]{1,20}$/.test(digits) ? digits : undefined;
}

/** `assertCanCallPhone`'s rule, shared by both implementations. */
export function checkPhoneCall(number: string, rate: Rate | undefined, balance: number): Rate {
  if (!rate) throw new CallingError('api', 'no-rate', `Calls to ${number} are not allowed: no rate covers this number.`);
  if (balance < rate.perMinute) {
    throw new CallingError('api', 'insufficient-funds', `insufficient funds: calling ${number} costs ${rate.perMinute} credits per minute and the balance is ${balance}.`);
  }
  return rate;
}

export function assertAmount(amount: number, kind: 'topup' | 'charge'): void {
  if (kind === 'topup' && (!Number.isSafeInteger(amount) || amount <= 0)) throw new RangeError('amount must be a positive integer');
  if (kind === 'charge' && (!Number.isSafeInteger(amount) || amount < 0)) throw new RangeError('amount must be a non-negative integer');
}

/** SQLite storage (better-sqlite3). Synchronous underneath: the async methods return settled promises. */
export class CallingStore implements CallingStorage {
  readonly kind = 'sqlite';
  readonly db: Database.Database;

  constructor(readonly path: string = DEFAULT_DB_PATH) {
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('synchronous = NORMAL');
    this.migrate();
  }

  private readonly statements = new Map<string, Database.Statement>();
  /** A prepared statement, compiled once per SQL text. */
  private sql(text: string): Database.Statement {
    let statement = this.statements.get(text);
    if (!statement) {
      statement = this.db.prepare(text);
      this.statements.set(text, statement);
    }
    return statement;
  }

  private version(): number {
    return this.db.pragma('user_version', { simple: true }) as number;
  }

  async schemaVersion(): Promise<number> {
    return this.version();
  }

  async writable(): Promise<boolean> {
    try {
      this.db.exec('BEGIN IMMEDIATE; ROLLBACK');
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    if (this.db.open) this.db.close();
  }

  private migrate(): void {
    const apply = this.db.transaction(() => {
      // Read inside the transaction so two processes opening a fresh file do not both migrate.
      const current = this.version();
      for (let v = current; v < MIGRATIONS.length; v++) {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      }
    });
    apply.immediate();
  }

  // --- accounts and ledger --------------------------------------------------------------------------------------

  private account(userId: string): Account | undefined {
    const row = this.sql('SELECT user_id, balance, created_at FROM accounts WHERE user_id = ?')
      .get(userId) as { user_id: string; balance: number; created_at: number } | undefined;
    return row && { userId: row.user_id, balance: row.balance, createdAt: row.created_at };
  }

  private ensure(userId: string): Account {
    this.sql('INSERT OR IGNORE INTO accounts (user_id, balance, created_at) VALUES (?, 0, ?)').run(userId, Date.now());
    return this.account(userId)!;
  }

  async getAccount(userId: string): Promise<Account | undefined> {
    return this.account(userId);
  }

  async ensureAccount(userId: string): Promise<Account> {
    return this.ensure(userId);
  }

  async topUp(userId: string, amount: number, reason = 'top-up'): Promise<LedgerEntry> {
    assertAmount(amount, 'topup');
    return this.db.transaction(() => this.post(userId, 'topup', amount, reason, null)).immediate();
  }

  async charge(userId: string, amount: number, reason: string, callId: string): Promise<LedgerEntry | undefined> {
    assertAmount(amount, 'charge');
    return this.db.transaction(() => this.chargeInTransaction(userId, amount, reason, callId)).immediate();
  }

  private chargeInTransaction(userId: string, amount: number, reason: string, callId: string): LedgerEntry | undefined {
    const already = this.sql("SELECT 1 FROM ledger WHERE call_id = ? AND kind = 'charge'").get(callId);
    if (already) return undefined;
    return this.post(userId, 'charge', -amount, reason, callId);
  }

  private post(userId: string, kind: 'topup' | 'charge', amount: number, reason: string, callId: string | null): LedgerEntry {
    this.ensure(userId);
    const { balance } = this.sql('UPDATE accounts SET balance = balance + ? WHERE user_id = ? RETURNING balance')
      .get(amount, userId) as { balance: number };
    const at = Date.now();
    const { id } = this.sql(
      'INSERT INTO ledger (user_id, kind, amount, balance_after, reason, call_id, at) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id',
    ).get(userId, kind, amount, balance, reason, callId, at) as { id: number };
    return { id, userId, kind, amount, balanceAfter: balance, reason, callId, at };
  }

  async history(userId: string, page: { limit: number; offset: number }): Promise<Page<LedgerEntry>> {
    const rows = this.sql('SELECT * FROM ledger WHERE user_id = ? ORDER BY id DESC LIMIT ? OFFSET ?')
      .all(userId, page.limit + 1, page.offset) as LedgerRow[];
    return paginate(rows.map(toLedgerEntry), page);
  }

  // --- rates ----------------------------------------------------------------------------------------------------

  async setRate(prefix: string, perMinute: number, description = ''): Promise<Rate> {
    this.sql(
      'INSERT INTO rates (prefix, per_minute, description) VALUES (?, ?, ?) ON CONFLICT (prefix) DO UPDATE SET per_minute = excluded.per_minute, description = excluded.description',
    ).run(prefix, perMinute, description);
    return { prefix, perMinute, description };
  }

  async deleteRate(prefix: string): Promise<boolean> {
    return this.sql('DELETE FROM rates WHERE prefix = ?').run(prefix).changes > 0;
  }

  async listRates(): Promise<Rate[]> {
    return (this.sql('SELECT prefix, per_minute, description FROM rates ORDER BY prefix').all() as
      { prefix: string; per_minute: number; description: string }[])
      .map((r) => ({ prefix: r.prefix, perMinute: r.per_minute, description: r.description }));
  }

  private rate(number: string): Rate | undefined {
    const digits = rateDigits(number);
    if (digits === undefined) return undefined;
    const row = this.sql(
      "SELECT prefix, per_minute, description FROM rates WHERE ? LIKE prefix || '%' ORDER BY length(prefix) DESC LIMIT 1",
    ).get(digits) as { prefix: string; per_minute: number; description: string } | undefined;
    return row && { prefix: row.prefix, perMinute: row.per_minute, description: row.description };
  }

  async rateFor(number: string): Promise<Rate | undefined> {
    return this.rate(number);
  }

  async assertCanCallPhone(userId: string, number: string): Promise<Rate> {
    return checkPhoneCall(number, this.rate(number), this.account(userId)?.balance ?? 0);
  }

  // --- call detail records ----------------------------------------------------------------------------------------

  async callStarted(r: CallStart): Promise<boolean> {
    return this.sql(
      'INSERT OR IGNORE INTO calls (call_id, caller, callee, callee_peer, call_type, video, started_at, caller_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ).run(r.callId, r.caller, r.callee, r.calleePeer, r.callType, r.video ? 1 : 0, r.at, r.callerName ?? null).changes > 0;
  }

  async callEstablished(callId: string, at: number, answeredBy?: string): Promise<boolean> {
    return this.sql(
      'UPDATE calls SET established_at = ?, callee_peer = COALESCE(?, callee_peer) WHERE call_id = ? AND established_at IS NULL AND ended_at IS NULL',
    ).run(at, answeredBy ?? null, callId).changes > 0;
  }

  async callEnded(callId: string, end: CallEnd): Promise<CallRecord | undefined> {
    return this.db.transaction(() => {
      const row = this.sql('SELECT * FROM calls WHERE call_id = ?').get(callId) as CallRow | undefined;
      if (!row || row.ended_at !== null) return undefined;
      let cost = 0;
      if (row.call_type === 'phone') {
        const rate = this.rate(row.callee);
        cost = rate ? callCost(row.established_at, end.at, rate.perMinute) : 0;
        if (cost > 0) this.chargeInTransaction(row.caller, cost, `call to ${row.callee}`, callId);
      }
      this.sql('UPDATE calls SET ended_at = ?, end_cause = ?, error = ?, ended_by = ?, cost = ? WHERE call_id = ?')
        .run(end.at, end.cause, end.error ?? null, end.endedBy, cost, callId);
      return toCallRecord({ ...row, ended_at: end.at, end_cause: end.cause, error: end.error ?? null, ended_by: end.endedBy, cost });
    }).immediate();
  }

  async getCall(callId: string): Promise<CallRecord | undefined> {
    const row = this.sql('SELECT * FROM calls WHERE call_id = ?').get(callId) as CallRow | undefined;
    return row && toCallRecord(row);
  }

  async listCalls(filter: { user?: string | undefined; limit: number; offset: number }): Promise<Page<CallRecord>> {
    const rows = (filter.user === undefined
      ? this.sql('SELECT * FROM calls ORDER BY started_at DESC, call_id LIMIT ? OFFSET ?').all(filter.limit + 1, filter.offset)
      : this.sql('SELECT * FROM calls WHERE caller = ? OR callee = ? ORDER BY started_at DESC, call_id LIMIT ? OFFSET ?')
        .all(filter.user, filter.user, filter.limit + 1, filter.offset)) as CallRow[];
    return paginate(rows.map(toCallRecord), filter);
  }

  async openCallsOf(peer: string): Promise<CallRecord[]> {
    return (this.sql('SELECT * FROM calls WHERE ended_at IS NULL AND (caller = ? OR callee_peer = ?)').all(peer, peer) as CallRow[])
      .map(toCallRecord);
  }

  async callHistory(user: string, page: { limit: number; before?: string | undefined }): Promise<CallRecord[]> {
    const args = (...values: unknown[]) => Object.fromEntries(values.map((v, i) => [i + 1, v]));
    if (page.before === undefined) return (this.sql(HISTORY_SQL.first).all(args(user, page.limit)) as CallRow[]).map(toCallRecord);
    const cursor = this.sql(HISTORY_SQL.cursor).get(args(user, page.before)) as { started_at: number; call_id: string } | undefined;
    if (!cursor) throw invalidCursor();
    return (this.sql(HISTORY_SQL.after).all(args(user, page.limit, cursor.started_at, cursor.call_id)) as CallRow[]).map(toCallRecord);
  }
}

export function paginate<T>(rows: T[], page: { limit: number; offset: number }): Page<T> {
  const more = rows.length > page.limit;
  return { items: more ? rows.slice(0, page.limit) : rows, nextOffset: more ? page.offset + page.limit : null };
}

export function toLedgerEntry(r: LedgerRow): LedgerEntry {
  return { id: r.id, userId: r.user_id, kind: r.kind, amount: r.amount, balanceAfter: r.balance_after, reason: r.reason, callId: r.call_id, at: r.at };
}

export function toCallRecord(r: CallRow): CallRecord {
  return {
    callId: r.call_id, caller: r.caller, callerName: r.caller_name ?? null, callee: r.callee, calleePeer: r.callee_peer, callType: r.call_type, video: r.video === 1,
    startedAt: r.started_at, establishedAt: r.established_at, endedAt: r.ended_at, endCause: r.end_cause,
    error: r.error, endedBy: r.ended_by, cost: r.cost,
  };
}
