import { CallingStore, type CallingStorage } from './store.js';
import { PostgresStore } from './postgres.js';

/**
 * The server's storage: PostgreSQL when `databaseUrl` is a `postgres://` (or `postgresql://`) URL, else SQLite in
 * `dbPath` (`:memory:` by default).
 */
export async function openStorage(options: { databaseUrl?: string | undefined; dbPath?: string | undefined }): Promise<CallingStorage> {
  const url = options.databaseUrl;
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('DATABASE_URL must be a postgres:// URL (leave it unset for SQLite).');
    return PostgresStore.open(url);
  }
  return new CallingStore(options.dbPath ?? ':memory:');
}
