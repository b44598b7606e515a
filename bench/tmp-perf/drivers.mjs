import Database from 'better-sqlite3';
import sqlite3 from 'sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const dir = mkdtempSync(join(tmpdir(), 'drv-'));
const N = 500;
{
  const db = new Database(join(dir, 'b.sqlite'));
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
  db.exec('create table t(id text primary key, rev int, data text)');
  db.prepare('insert into t values (?,?,?)').run('a', 1, 'x'.repeat(8000));
  const up = db.prepare('update t set rev = rev + 1, data = ? where id = ? and rev = ?');
  const get = db.prepare('select rev, data from t where id = ?');
  let t = performance.now();
  for (let i = 0; i < N; i++) { const r = get.get('a'); up.run('y'.repeat(8000), 'a', r.rev); }
  console.log('better-sqlite3 get+update (FULL) ms/op', ((performance.now() - t) / N).toFixed(3));
  db.pragma('synchronous = NORMAL');
  t = performance.now();
  for (let i = 0; i < N; i++) { const r = get.get('a'); up.run('y'.repeat(8000), 'a', r.rev); }
  console.log('better-sqlite3 get+update (NORMAL) ms/op', ((performance.now() - t) / N).toFixed(3));
}
{
  const db = new sqlite3.Database(join(dir, 's.sqlite'));
  const all = (sql, ...p) => new Promise((res, rej) => db.all(sql, p, (e, r) => (e ? rej(e) : res(r))));
  await all('pragma journal_mode = WAL'); await all('pragma synchronous = FULL');
  await all('create table t(id text primary key, rev int, data text)');
  await all('insert into t values (?,?,?)', 'a', 1, 'x'.repeat(8000));
  let t = performance.now();
  for (let i = 0; i < N; i++) { const [r] = await all('select rev, data from t where id = ?', 'a'); await all('update t set rev = rev + 1, data = ? where id = ? and rev = ?', 'y'.repeat(8000), 'a', r.rev); }
  console.log('sqlite3 get+update (FULL) ms/op', ((performance.now() - t) / N).toFixed(3));
  await all('pragma synchronous = NORMAL');
  t = performance.now();
  for (let i = 0; i < N; i++) { const [r] = await all('select rev, data from t where id = ?', 'a'); await all('update t set rev = rev + 1, data = ? where id = ? and rev = ?', 'y'.repeat(8000), 'a', r.rev); }
  console.log('sqlite3 get+update (NORMAL) ms/op', ((performance.now() - t) / N).toFixed(3));
}
