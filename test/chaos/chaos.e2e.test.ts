/**
 * The short profile of the seeded fault campaign (campaign.ts): two real app instances on a real
 * Redis, the fake Slack and the push emulator, a few trials of concurrent clicks, Tencent and Slack
 * faults and SIGKILLs with restarts. Every check must hold after every trial; the figures prove the
 * campaign really clicked, pushed, failed and killed. The long run: `npm run chaos -- --trials 1000 --seed N`.
 */
import { describe, expect, it } from 'vitest';
import { QUICK, figuresTable, runCampaign } from './campaign.js';

describe('fault campaign (short profile)', () => {
  it(`${QUICK.trials} seeded trials: at most one push per request, none unapproved, every card and thread true`, { timeout: 300_000 }, async () => {
    const lines: string[] = [];
    const figures = await runCampaign({ ...QUICK, log: (line) => lines.push(line) });
    const report = `${lines.join('\n')}\n\n${figuresTable(figures)}`;

    expect(figures.violations, report).toEqual([]);
    expect(figures.trials).toBe(QUICK.trials);
    // The campaign exercised what it claims to: clicks of every kind, pushes, faults that fired, kills.
    expect(figures.clicks['approve'], report).toBeGreaterThan(0);
    expect((figures.clicks['approve:requester'] ?? 0) + (figures.clicks['approve:outsider'] ?? 0), report).toBeGreaterThan(0);
    expect(figures.clicks['reject:submit'] ?? 0, report).toBeGreaterThan(0);
    expect(figures.pushes, report).toBeGreaterThan(0);
    expect(figures.kills, report).toBeGreaterThan(0);
    expect(figures.restarts, report).toBeGreaterThanOrEqual(figures.kills);
    expect(Object.values(figures.tencentFaults).reduce((s, f) => s + f.fired, 0), report).toBeGreaterThan(0);
    expect(Object.values(figures.slackFaults).reduce((s, f) => s + f.fired, 0), report).toBeGreaterThan(0);
    expect(figures.crashes, report).toBe(0);
  });
});
