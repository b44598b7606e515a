import { describe, expect, it } from 'vitest';
import { plainChunks } from '../../views/blocks.js';
import { code, describeAudience, escapeMrkdwn, formatLifetime, formatQuota, mention, slackDate, stateLabel, truncate } from '../../views/format.js';
import { ALL_STATES, quota } from './fixtures.js';

describe('format helpers', () => {
  it('escapes what could become markup', () => {
    expect(escapeMrkdwn('<!channel> & <@U1>')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt;');
    expect(mention('U0ABC')).toBe('<@U0ABC>');
    expect(mention('<!here>')).toBe('&lt;!here&gt;');
    expect(mention('system')).toBe('the app');
    expect(code('a`b')).toBe('“a`b”');
    expect(code('x'.repeat(500))).toBe(`\`${'x'.repeat(500)}\``);
  });

  it('dates: a Slack date in each reader’s zone, with a UTC fallback', () => {
    expect(slackDate('2026-11-27T08:30:00.000Z')).toBe('<!date^1795768200^{date_short_pretty} {time}|2026-11-27 08:30 UTC>');
    expect(slackDate(undefined)).toBe('at an unknown time');
  });

  it('truncate never splits a surrogate pair or an entity', () => {
    expect(truncate('😀😀😀', 4)).toBe('😀…');
    expect(truncate('ab &amp; cd', 6)).toBe('ab …');
  });

  it('plainChunks keeps every character and never yields an empty text', () => {
    const t = `${'a'.repeat(2500)}\n${'b'.repeat(2500)}\n${'c'.repeat(10)}`;
    const parts = plainChunks(t);
    expect(parts.join('')).toBe(t);
    expect(parts.every((p) => p.length <= 3000)).toBe(true);
    expect(plainChunks('')).toEqual([' ']);
  });

  it('state labels: words first, one emoji', () => {
    for (const s of ALL_STATES) expect(stateLabel(s)).toMatch(/^[A-Z][a-z, ]+ \S+$/u);
    expect(stateLabel('pending')).toBe('Pending approval ⏳');
  });

  it('quota and lifetime in words', () => {
    expect(formatQuota(quota())).toBe('12 of 100 pushes used today (2026-11-27), 88 left; resets at 00:00 Asia/Shanghai');
    expect(formatLifetime(0)).toBe('not stored: only users online at that moment receive it');
    expect(formatLifetime(259200)).toBe('3 days');
    expect(formatLifetime(5400)).toBe('1 h 30 min');
  });

  it('audience in words, everyone said plainly even for empty tag lists', () => {
    expect(describeAudience({ kind: 'tags', all: [], any: [] })).toContain('reaches every user of the app');
    expect(describeAudience({ kind: 'attributes', all: {}, any: { city: '<b>' } })).toBe('users matching *any* of these attributes: `city = &lt;b&gt;`');
  });
});
