import { describe, expect, it } from 'vitest';
import { blockErrors, draftFromModal, parseAttributes, parseTags } from '../../src/slack/modal-input.js';
import { stateValue } from '../helpers/slack-requests.js';

/** view.state.values for the request modal from plain field values. */
function values(fields: Record<string, string>) {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [block, v] of Object.entries(fields)) {
    out[block] = {
      [block]:
        block === 'audience' ? stateValue.radio(v) : block === 'lifetime' ? stateValue.select(v) : block === 'badge_mode' ? stateValue.checkboxes(v ? [v] : []) : stateValue.text(v),
    };
  }
  return out as never;
}

describe('parseTags', () => {
  it('splits on commas (also full-width) and new lines, trimming and skipping blanks', () => {
    expect(parseTags(' a, b ,\n\n c，d ,, ')).toEqual(['a', 'b', 'c', 'd']);
    expect(parseTags('')).toEqual([]);
  });
});

describe('parseAttributes', () => {
  it('splits each line at the first "="', () => {
    expect(parseAttributes('city=Shenzhen\n\n  level = a=b ')).toEqual({ attrs: { city: 'Shenzhen', level: 'a=b' } });
  });
  it.each([
    ['city', /no “=”/],
    ['=x', /no attribute name/],
    ['city=', /no value/],
    ['a=1\na=2', /listed twice/],
  ])('rejects %j', (text, error) => {
    expect(parseAttributes(text).error).toMatch(error);
  });
});

describe('draftFromModal', () => {
  it('reads a tag audience with push details', () => {
    const parsed = draftFromModal(
      values({ message: 'hi', audience: 'tags', tags_all: 'a,b', tags_any: 'c', lifetime: '3600', sender: ' bob ', push_title: 'T', badge_mode: '1', note: 'pls' }),
    );
    expect(parsed).toEqual({
      ok: true,
      draft: {
        message: 'hi',
        audience: { kind: 'tags', all: ['a', 'b'], any: ['c'] },
        lifetimeSeconds: 3600,
        sender: 'bob',
        offlinePush: { title: 'T', apnsBadgeMode: 1 },
        note: 'pls',
      },
    });
  });

  it.each([
    [{ message: '  ', audience: 'all' }, 'message'],
    [{ message: 'x' }, 'audience'],
    [{ message: 'x', audience: 'tags' }, 'tags_all'],
    [{ message: 'x', audience: 'attributes' }, 'attrs_all'],
    [{ message: 'x', audience: 'all', tags_any: 'vip' }, 'tags_any'],
    [{ message: 'x', audience: 'all', attrs_all: 'a=b' }, 'attrs_all'],
    [{ message: 'x', audience: 'tags', tags_all: 'vip', attrs_any: 'a=b' }, 'attrs_any'],
    [{ message: 'x', audience: 'attributes', attrs_all: 'a=b', tags_all: 'vip' }, 'tags_all'],
    [{ message: 'x', audience: 'tags', tags_all: 'vip, vip' }, 'tags_all'],
  ])('puts the error of %j on block %s', (fields, block) => {
    const parsed = draftFromModal(values(fields as Record<string, string>));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(Object.keys(parsed.errors)).toContain(block);
  });
});

describe('blockErrors', () => {
  it('maps domain fields to block ids and joins several messages for one block', () => {
    expect(
      blockErrors([
        { field: 'tagsAll', message: 'one.' },
        { field: 'tagsAll', message: 'two.' },
        { field: 'pushExt', message: 'json.' },
      ]),
    ).toEqual({ tags_all: 'one. two.', push_ext: 'json.' });
  });
});
