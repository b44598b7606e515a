import { describe, expect, it } from 'vitest';
import { buildHome, quotaGauge } from '../../views/home.js';
import { allTexts, quota, request } from './fixtures.js';

describe('quotaGauge', () => {
  it('fills cells in proportion', () => {
    expect(quotaGauge(quota({ used: 30 }))).toBe('▰▰▰▱▱▱▱▱▱▱ 30 of 100');
    expect(quotaGauge(quota({ used: 0 }))).toBe('▱▱▱▱▱▱▱▱▱▱ 0 of 100');
  });
  it('is full only when the quota is used up', () => {
    expect(quotaGauge(quota({ used: 99 }))).toBe('▰▰▰▰▰▰▰▰▰▱ 99 of 100');
    expect(quotaGauge(quota({ used: 100 }))).toBe('▰▰▰▰▰▰▰▰▰▰ 100 of 100');
    expect(quotaGauge(quota({ used: 20, exhausted: true }))).toBe('▰▰▰▰▰▰▰▰▰▰ 20 of 100');
  });
});

describe('buildHome', () => {
  const recent = Array.from({ length: 12 }, (_, i) =>
    request({
      id: `req_${i}`,
      state: i % 2 ? 'sent' : 'pending',
      createdAt: new Date(Date.UTC(2026, 10, 1 + i)).toISOString(),
      draft: { message: `message number ${i} <!here>` },
    }),
  );

  it('shows the gauge and the 10 most recent requests, newest first, with state labels', () => {
    const h = buildHome({ quota: quota({ used: 30 }), recent, isApprover: false });
    expect(h.type).toBe('home');
    const t = allTexts(h.blocks).join('\n');
    expect(t).toContain('▰▰▰▱▱▱▱▱▱▱ 30 of 100');
    const shown = allTexts(h.blocks).filter((x) => x.includes('message number'));
    expect(shown).toHaveLength(10);
    expect(shown[0]).toContain('message number 11 ');
    expect(shown[0]).toContain('🚀 Sent');
    expect(shown[1]).toContain('⏳ Pending approval');
    expect(t).not.toContain('message number 1 ');
    expect(t).not.toContain('<!here>');
    expect(h.blocks.length).toBeLessThanOrEqual(100);
  });

  it('tells approvers and requesters what they can do', () => {
    expect(allTexts(buildHome({ quota: quota(), recent: [], isApprover: true }).blocks).join()).toContain('You are an approver');
    expect(allTexts(buildHome({ quota: quota(), recent: [], isApprover: false }).blocks).join()).toContain('/broadcast');
  });

  it('says when there are no requests', () => {
    expect(allTexts(buildHome({ quota: quota(), recent: [], isApprover: false }).blocks)).toContain('No broadcast requests yet.');
  });
});
