/**
 * The outbox bookkeeping on a real in-memory store: the write that settles the last owed target
 * gives up the delivery lease in the same step, so an instance killed before `release` leaves no
 * lease behind on a request nobody will claim again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nextOwed } from '../../src/broadcast/outbox.js';
import { closeStores, setup, submitted } from './support.js';

afterEach(closeStores);

describe('delivery lease', () => {
  it('is held while something is owed and dropped by the write that settles the last target, without release', async () => {
    const { service } = await setup();
    const d = service.deliveries;
    const r = await submitted(service);
    let cur = await d.claim(r.id);
    expect(cur?.outbox.lease?.owner).toBe(service.instanceId);
    cur = await d.cardDone(r.id, cur!.outbox.card!.mark, { channel: 'C0APPROVALS', ts: '1.000001' });
    // The thread and the DM still owe the "submitted" entry: the lease stays.
    expect(nextOwed(cur!, 'thread')).toBe(0);
    expect(cur?.outbox.lease?.owner).toBe(service.instanceId);
    cur = await d.entryDone(r.id, 'thread', 0);
    const dm = nextOwed(cur!, 'dm');
    if (dm !== undefined) {
      expect(cur?.outbox.lease).toBeDefined();
      cur = await d.entryDone(r.id, 'dm', dm);
    }
    // Nothing is owed now, and the lease went with the last write (as if the instance died here).
    expect(nextOwed(cur!, 'thread')).toBeUndefined();
    expect(nextOwed(cur!, 'dm')).toBeUndefined();
    expect(cur?.outbox.lease).toBeUndefined();
    expect((await service.get(r.id))?.outbox.lease).toBeUndefined();
  });

  it('is kept by a write when another target is still owed, and its owner may take it again', async () => {
    const { service } = await setup();
    const r = await submitted(service);
    const mine = await service.deliveries.claim(r.id);
    const after = await service.deliveries.cardDone(r.id, mine!.outbox.card!.mark, { channel: 'C0APPROVALS', ts: '1.000002' });
    expect(after?.outbox.lease?.owner).toBe(service.instanceId);
    expect(await service.deliveries.claim(r.id)).toBeDefined(); // the owner may re-take its own lease
  });
});
