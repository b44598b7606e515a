import type { AtomicKv } from './atomic-kv.js';
import { RedisKv } from './redis-kv.js';
import { SqliteKv } from './sqlite-kv.js';

/** Open the store named by STORE_URL: sqlite://<path>, memory:// (tests) or redis://… */
export async function openKv(url: string): Promise<AtomicKv> {
  if (url === 'memory://' || url === 'memory:') return SqliteKv.open(':memory:');
  if (url.startsWith('sqlite://')) return SqliteKv.open(url.slice('sqlite://'.length));
  if (url.startsWith('redis://') || url.startsWith('rediss://')) return RedisKv.open(url);
  throw new Error(`Unsupported STORE_URL "${url}": use sqlite://<path>, memory:// or redis://host:port`);
}
