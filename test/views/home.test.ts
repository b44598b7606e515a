import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { BroadcastRequest } from '../../src/broadcast/types.js';
import { ACTIONS, SANDBOX_BANNER } from '../../views/context.js';
import { HOME_RECENT_LIMIT, buildHome, quotaGauge } from '../../views/home.js';
import { viewProblems } from './block-kit.js';
import { ALL_STATES, OTHER, PERMALINK, REQUESTER, TASK_ID, allTexts, inState, quota } from './fixtures.js';

const text = (blocks: KnownBlock[]) => allTexts(blocks).join('\n');
const mine = ALL_STATES.map((s) => inState(s));
const theirs: BroadcastRequest = { ...inState('sent'), id: 'br-theirs0000', requesterId: OTHER };
const open = [...mine.filter((r) => ['pending', 'scheduled', 'unknown'].includes(r.state)), { ...inState('pending'), id: 'br-theirs0001', requesterId: OTHER }];

describe('App Home', () => {
  it('an approver sees every request, waiting and latest, each linking to its card with state, TaskId, requester and approver', () => {
    const home = buildHome({ quota: quota(), open, recent: [theirs, ...mine], isApprover: true, viewerId: 'U0APP1' });
    expect(viewProblems(home)).toEqual([]);
    const t = text(home.blocks);
    expect(t).toContain('br-theirs0000');
    expect(t).toContain('br-theirs0001');
    expect(t).toContain(`<${PERMALINK}|“Server maintenance tonight`);
    expect(t).toMatch(/\*Sent ✅\* · <https:[^|]+\|“Server maintenance[^”]*”> · to everyone\n`br-abcdefghjk` from <@U0REQ1> <!date\^[^>]+> · approved by <@U0APP1> · TaskId `1400123456_/);
    expect(t).toContain(`TaskId \`${TASK_ID}\``);
    expect(t).toContain('rejected by <@U0APP2>');
    expect(t).toMatch(/goes out <!date\^/);
    expect(t).toContain('You are an approver');
  });

  it('anyone else sees only their own requests and the quota, whatever the lists hold', () => {
    const home = buildHome({ quota: quota(), open, recent: [theirs, ...mine], isApprover: false, viewerId: REQUESTER });
    const t = text(home.blocks);
    expect(t).not.toContain('br-theirs');
    expect(t).not.toContain(`<@${OTHER}>`);
    expect(t).toContain('Your latest 20 broadcasts');
    expect(t).toContain('Today’s pushes');
    expect(t).toContain('You see your own requests.');
  });

  it('has a New broadcast button, the quota gauge with used, left and reset, and the sandbox banner when sandboxed', () => {
    const home = buildHome({ quota: quota(), open: [], recent: [], isApprover: false, viewerId: REQUESTER, sandbox: true });
    const button = (home.blocks.find((b) => b.type === 'actions') as any).elements[0];
    expect(button).toMatchObject({ action_id: ACTIONS.homeNew, text: { text: 'New broadcast' }, style: 'primary' });
    expect(button.accessibility_label).toBeTruthy();
    const t = text(home.blocks);
    expect(t).toContain('`▰▱▱▱▱▱▱▱▱▱`');
    expect(t).toContain('*12 of 100 used, 88 left* today (2026-11-27); it resets at 00:00 Asia/Shanghai (<!date^');
    expect(t).toContain(SANDBOX_BANNER);
    expect(t).toContain('Nothing is waiting.');
    expect(viewProblems(home)).toEqual([]);
  });

  it('shows the last 20 at most, within 100 blocks', () => {
    const many = Array.from({ length: 60 }, (_, i) => ({ ...inState('sent'), id: `br-many${String(i).padStart(6, '0')}` }));
    const home = buildHome({ quota: quota(), open: many, recent: many, isApprover: true });
    expect(viewProblems(home)).toEqual([]);
    const recentIndex = home.blocks.findIndex((b) => allTexts(b).join('').startsWith('Latest'));
    expect(home.blocks.slice(recentIndex + 1).filter((b) => b.type === 'section')).toHaveLength(HOME_RECENT_LIMIT);
  });
});

describe('quota gauge', () => {
  it('is full only when the quota really is used up', () => {
    expect(quotaGauge(quota({ used: 0 }))).toBe('▱'.repeat(10));
    expect(quotaGauge(quota({ used: 1 }))).toBe(`▰${'▱'.repeat(9)}`);
    expect(quotaGauge(quota({ used: 99 }))).toBe(`${'▰'.repeat(9)}▱`);
    expect(quotaGauge(quota({ used: 100 }))).toBe('▰'.repeat(10));
    expect(quotaGauge(quota({ used: 3, exhausted: true }))).toBe('▰'.repeat(10));
  });

  it('says when Tencent refused further pushes although our count is lower', () => {
    expect(text(buildHome({ quota: quota({ used: 3, exhausted: true }), open: [], recent: [], isApprover: true }).blocks)).toContain('*Used up for today* (Tencent refused further pushes; 3 of 100 counted here)');
  });
});
