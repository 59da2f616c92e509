/**
 * Schema migrations, applied in order; `PRAGMA user_version` records how many ran. Never edit a released migration:
 * append a new one. Amounts are integers in the account's minor unit ("credits", e.g. cents); times are ms since the
 * epoch.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts and their ledger, the rate table, call detail records.
  `
  CREATE TABLE accounts (
    user_id    TEXT PRIMARY KEY,
    balance    INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE ledger (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id       TEXT NOT NULL REFERENCES accounts(user_id),
    kind          TEXT NOT NULL CHECK (kind IN ('topup', 'charge')),
    amount        INTEGER NOT NULL,
    balance_after INTEGER NOT NULL,
    reason        TEXT NOT NULL,
    call_id       TEXT,
    at            INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX ledger_by_user ON ledger (user_id, id);
  -- A call is charged at most once, whoever reports its end and however often.
  CREATE UNIQUE INDEX ledger_one_charge_per_call ON ledger (call_id) WHERE kind = 'charge';
  CREATE TABLE rates (
    prefix      TEXT PRIMARY KEY CHECK (length(prefix) BETWEEN 1 AND 15 AND prefix NOT GLOB '*[^0-9]*'),
    per_minute  INTEGER NOT NULL CHECK (per_minute >= 0),
    description TEXT NOT NULL DEFAULT ''
  ) STRICT;
  CREATE TABLE calls (
    call_id        TEXT PRIMARY KEY,
    caller         TEXT NOT NULL,
    callee         TEXT NOT NULL,
    callee_peer    TEXT NOT NULL,
    call_type      TEXT NOT NULL CHECK (call_type IN ('user', 'phone', 'sip', 'conference')),
    video          INTEGER NOT NULL,
    started_at     INTEGER NOT NULL,
    established_at INTEGER,
    ended_at       INTEGER,
    end_cause      TEXT,
    error          TEXT,
    ended_by       TEXT,
    cost           INTEGER NOT NULL DEFAULT 0
  ) STRICT;
  CREATE INDEX calls_by_caller ON calls (caller, started_at);
  CREATE INDEX calls_by_callee ON calls (callee, started_at);
  CREATE INDEX calls_open ON calls (ended_at) WHERE ended_at IS NULL;
  `,
  // 2: the caller's display name (from the invite), for the callee's call history.
  `
  ALTER TABLE calls ADD COLUMN caller_name TEXT;
  `,
];

/**
 * The same schema for PostgreSQL (`postgres.ts`), applied in order; the `schema_migrations` table records how many
 * ran. Kept in step with `MIGRATIONS`: migration n here makes the same tables as migration n there. Times and
 * amounts are BIGINT (read back as JS numbers: all stay below 2^53).
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: accounts and their ledger, the rate table, call detail records.
  `
  CREATE TABLE accounts (
    user_id    TEXT PRIMARY KEY,
    balance    BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
  );
  CREATE TABLE ledger (
    id            BIGSERIAL PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES accounts(user_id),
    kind          TEXT NOT NULL CHECK (kind IN ('topup', 'charge')),
    amount        BIGINT NOT NULL,
    balance_after BIGINT NOT NULL,
    reason        TEXT NOT NULL,
    call_id       TEXT,
    at            BIGINT NOT NULL
  );
  CREATE INDEX ledger_by_user ON ledger (user_id, id);
  CREATE UNIQUE INDEX ledger_one_charge_per_call ON ledger (call_id) WHERE kind = 'charge';
  CREATE TABLE rates (
    prefix      TEXT PRIMARY KEY CHECK (length(prefix) BETWEEN 1 AND 15 AND prefix ~ '^[0-9]+$'),
    per_minute  BIGINT NOT NULL CHECK (per_minute >= 0),
    description TEXT NOT NULL DEFAULT ''
  );
  CREATE TABLE calls (
    call_id        TEXT PRIMARY KEY,
    caller         TEXT NOT NULL,
    callee         TEXT NOT NULL,
    callee_peer    TEXT NOT NULL,
    call_type      TEXT NOT NULL CHECK (call_type IN ('user', 'phone', 'sip', 'conference')),
    video          INTEGER NOT NULL,
    started_at     BIGINT NOT NULL,
    established_at BIGINT,
    ended_at       BIGINT,
    end_cause      TEXT,
    error          TEXT,
    ended_by       TEXT,
    cost           BIGINT NOT NULL DEFAULT 0
  );
  CREATE INDEX calls_by_caller ON calls (caller, started_at);
  CREATE INDEX calls_by_callee ON calls (callee, started_at);
  CREATE INDEX calls_open ON calls (ended_at) WHERE ended_at IS NULL;
  `,
  // 2: the caller's display name (from the invite), for the callee's call history.
  `
  ALTER TABLE calls ADD COLUMN caller_name TEXT;
  `,
];
