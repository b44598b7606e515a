import { describe, expect, it } from 'vitest';
import { REQUEST_STATES } from '../../src/broadcast/types.js';
import {
  bodyReachesEveryone,
  describeAudience,
  escapeMrkdwn,
  formatLifetime,
  formatQuota,
  isEveryone,
  mention,
  slackDate,
  stateLabel,
  truncate,
  truncatePreview,
  escapeAndTruncate,
} from '../../views/format.js';
import { quota } from './fixtures.js';

describe('escapeMrkdwn', () => {
  it('escapes &, < and > so mentions and broadcasts stay inert', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> a>b')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; a&gt;b');
  });
  it('escapes & first so existing entities are shown literally', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
  });
});

describe('truncate', () => {
  it('keeps short text unchanged', () => {
    expect(truncate('hello', 5)).toBe('hello');
  });
  it('cuts to max with an ellipsis', () => {
    const t = truncate('abcdefghij', 6);
    expect(t).toBe('abcde…');
    expect(t.length).toBe(6);
  });
  it('never splits a surrogate pair', () => {
    const t = truncate('😀😀😀', 4); // 6 UTF-16 units
    expect(t.length).toBeLessThanOrEqual(4);
    expect(t).toBe('😀…');
  });
  it('truncatePreview says how long the full text is and never leaves half an entity', () => {
    const raw = '&'.repeat(100);
    const out = escapeAndTruncate(raw, 80);
    expect(out.length).toBeLessThanOrEqual(80);
    expect(out).toContain('(truncated; 100 characters in full)');
    expect(out.replace(/… \(truncated.*$/, '')).toMatch(/^(&amp;)+$/);
    expect(truncatePreview('short', 80, 5)).toBe('short');
  });
});

describe('describeAudience', () => {
  it('everyone in bold caps', () => {
    expect(describeAudience({ kind: 'all' })).toBe('*EVERYONE — every user of the app*');
    expect(describeAudience({ kind: 'all' }, 'plain')).toBe('EVERYONE — every user of the app');
  });
  it('tags all-of', () => {
    expect(describeAudience({ kind: 'tags', all: ['a', 'b'], any: [] })).toBe('users with ALL of these tags: `a`, `b`');
  });
  it('tags any-of', () => {
    expect(describeAudience({ kind: 'tags', all: [], any: ['x', 'y'] })).toBe('users with ANY of these tags: `x`, `y`');
  });
  it('tags with both lists', () => {
    expect(describeAudience({ kind: 'tags', all: ['a'], any: ['b', 'c'] })).toBe(
      'users with ALL of these tags: `a` AND at least one of: `b`, `c`',
    );
  });
  it('multibyte tags are kept intact', () => {
    const s = describeAudience({ kind: 'tags', all: ['股票A', '超白金会员'], any: ['😀粉丝'] });
    expect(s).toContain('`股票A`');
    expect(s).toContain('`超白金会员`');
    expect(s).toContain('`😀粉丝`');
  });
  it('attributes as name = value', () => {
    expect(describeAudience({ kind: 'attributes', all: { city: '深圳', level: 'gold' }, any: {} })).toBe(
      'users matching ALL of these attributes: `city = 深圳`, `level = gold`',
    );
    expect(describeAudience({ kind: 'attributes', all: {}, any: { sex: '男' } })).toBe(
      'users matching ANY of these attributes: `sex = 男`',
    );
    expect(describeAudience({ kind: 'attributes', all: { a: '1' }, any: { b: '2' } })).toContain(
      'ALL of these attributes: `a = 1` AND at least one of: `b = 2`',
    );
  });
  it('escapes user text in tags and attributes', () => {
    const s = describeAudience({ kind: 'tags', all: ['<!here>', 'a&b'], any: [] });
    expect(s).not.toContain('<!here>');
    expect(s).toContain('&lt;!here&gt;');
    expect(s).toContain('a&amp;b');
    const p = describeAudience({ kind: 'attributes', all: { '<@U1>': 'x' }, any: {} });
    expect(p).not.toContain('<@U1>');
  });
  it('a tag or attribute audience with nothing in it is EVERYONE, and says so', () => {
    const empty = { kind: 'tags' as const, all: [], any: [] };
    expect(isEveryone(empty)).toBe(true);
    expect(describeAudience(empty)).toMatch(/^\*EVERYONE\*/);
    expect(isEveryone({ kind: 'attributes', all: {}, any: {} })).toBe(true);
    expect(isEveryone({ kind: 'tags', all: ['a'], any: [] })).toBe(false);
  });
});

describe('bodyReachesEveryone', () => {
  it('is true without a Condition or with an empty one, false with tags', () => {
    expect(bodyReachesEveryone({ MsgRandom: 1 })).toBe(true);
    expect(bodyReachesEveryone({ Condition: { TagsAnd: [] } })).toBe(true);
    expect(bodyReachesEveryone({ Condition: { TagsAnd: ['a'] } })).toBe(false);
    expect(bodyReachesEveryone(undefined)).toBeUndefined();
  });
});

describe('formatLifetime', () => {
  it.each([
    [0, 'not stored: online users only'],
    [3600, '1 hour'],
    [21600, '6 hours'],
    [86400, '1 day'],
    [259200, '3 days'],
    [604800, '7 days'],
    [9000, '2 h 30 min'],
    [90, '1 min 30 s'],
  ])('%i s → %s', (s, text) => {
    expect(formatLifetime(s)).toBe(text);
  });
  it('flags invalid values', () => {
    expect(formatLifetime(-1)).toMatch(/invalid/);
  });
});

describe('formatQuota', () => {
  it('shows usage, day and reset in the quota time zone', () => {
    expect(formatQuota(quota())).toBe('12 of 100 pushes used today (2026-11-27); resets 00:00 Asia/Shanghai');
  });
  it('says the quota is used up when the count reaches the limit', () => {
    expect(formatQuota(quota({ used: 100 }))).toMatch(/^daily quota used up: 100 of 100/);
  });
  it('says the quota is used up when Tencent said so even if our count is lower', () => {
    const s = formatQuota(quota({ used: 40, exhausted: true }));
    expect(s).toMatch(/^daily quota used up/);
    expect(s).toContain('40 of 100');
  });
});

describe('stateLabel', () => {
  it('has the agreed emoji for every state and distinct labels', () => {
    const emoji: Record<string, string> = {
      pending: '⏳',
      approved: '✅',
      sending: '📤',
      sent: '🚀',
      failed: '❌',
      rejected: '🚫',
      expired: '⌛',
      cancelled: '🗑️',
      unknown: '❓',
    };
    for (const s of REQUEST_STATES) expect(stateLabel(s).startsWith(emoji[s] ?? 'missing')).toBe(true);
    expect(new Set(REQUEST_STATES.map(stateLabel)).size).toBe(REQUEST_STATES.length);
    expect(stateLabel('unknown')).toContain('Outcome unknown');
  });
});

describe('mention and slackDate', () => {
  it('mentions real user ids and escapes anything else', () => {
    expect(mention('U123ABC')).toBe('<@U123ABC>');
    expect(mention('<!channel>')).toBe('&lt;!channel&gt;');
  });
  it('formats dates with Slack date syntax and an ISO fallback', () => {
    expect(slackDate('2026-11-27T08:00:00.000Z')).toBe(
      '<!date^1795766400^{date_short_pretty} {time}|2026-11-27T08:00:00.000Z>',
    );
    expect(slackDate('not a <date>')).toBe('not a &lt;date&gt;');
  });
});
