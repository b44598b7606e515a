import { BroadcastService } from '../../src/broadcast/service.js';
import { openStore } from '../../src/broadcast/store/open.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const url = process.argv[2] === 'redis' ? process.argv[3]! : `sqlite://${join(mkdtempSync(join(tmpdir(), 'perf-')), 's.sqlite')}`;
const store = await openStore(url);
let t0 = 0; const lat: number[] = [];
const pusher = { push: async (_b: any) => { lat.push(performance.now() - t0); return { kind: 'sent' as const, taskId: 'T' + lat.length }; } };
const service = new BroadcastService({ store, pusher, dailyQuota: 100000, quotaTimeZone: 'Asia/Shanghai', minPushGapMs: 0 });
for (let i = 0; i < 200; i++) {
  const s = await service.decisions.submit({ requesterId: 'U0REQ', draft: { message: 'hello ' + i, audience: { kind: 'all' }, lifetimeSeconds: 3600 } });
  if (!s.ok) throw new Error('x');
  t0 = performance.now();
  const a = await service.decisions.approve({ requestId: s.request.id, version: s.request.version, userId: 'U0APP', isApprover: true });
  if (a.ok) await a.pushed;
}
lat.sort((a, b) => a - b);
console.log(url.slice(0, 8), 'p50', lat[100]!.toFixed(2), 'p99', lat[197]!.toFixed(2));
await store.close();
