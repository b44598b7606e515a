import { indexOf } from '../requests.js';
import { openSqliteReader, SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** Open the store named by STORE_URL: sqlite://<path>, memory:// (tests) or redis://… */
export async function openStore(url: string): Promise<Store> {
  if (url === 'memory://' || url === 'memory:') return SqliteStore.open(':memory:', indexOf);
  if (url.startsWith('sqlite://')) return SqliteStore.open(url.slice('sqlite://'.length), indexOf);
  // Loaded only when used: the Redis client costs start-up time and memory a SQLite instance never needs.
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return (await import('./redis-store.js')).RedisStore.open(url, indexOf);
  throw new Error(`Unsupported STORE_URL "${url}": use sqlite://<path>, memory:// or redis://host:port`);
}

/**
 * A read-only view for the audit export, safe to use while the app runs: on SQLite it reads
 * without taking the writer lock; on Redis it only reads.
 */
export async function openStoreReader(url: string): Promise<Pick<Store, 'scan' | 'close'>> {
  if (url.startsWith('sqlite://')) return openSqliteReader(url.slice('sqlite://'.length));
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return (await import('./redis-store.js')).RedisStore.open(url, indexOf);
  throw new Error(`The audit export reads sqlite://<path> or redis://… stores, not "${url}"`);
}
