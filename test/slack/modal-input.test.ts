import { describe, expect, it } from 'vitest';
import { blockErrors, draftFromModal, parseAttributes, parseTags, prefillFromState, readForm } from '../../src/slack/modal-input.js';
import { fitErrors } from '../../views/fit.js';
import { REQUEST_FORM } from '../../views/request-fields.js';
import { buildRequestModal } from '../../views/request-modal.js';
import { valuesFromModal } from '../helpers/slack-requests.js';
import { ctx, quota } from '../views/fixtures.js';

/** view.state.values of the real form, filled with `fields` (block id → value), the rest as the form starts. */
function values(fields: Record<string, string | null>) {
  return valuesFromModal(buildRequestModal({ quota: quota(), privateMetadata: '{}' }), fields) as never;
}

const ALL = { message: 'Hello', audience: 'all' };

describe('parseTags and parseAttributes', () => {
  it('tags: commas (also full-width) and new lines, trimmed, blanks skipped', () => {
    expect(parseTags(' a, b ,\n\n c，d ,, ')).toEqual(['a', 'b', 'c', 'd']);
    expect(parseTags('')).toEqual([]);
  });

  it('attributes: one name=value a line, split at the first "="', () => {
    expect(parseAttributes('city=Shenzhen\n\n  level = a=b ')).toEqual({ attrs: { city: 'Shenzhen', level: 'a=b' } });
  });

  it.each([
    ['city', /no “=”/],
    ['=x', /no attribute name/],
    ['city=', /no value/],
    ['a=1\na=2', /listed twice/],
  ])('refuses %j', (text, error) => {
    expect(parseAttributes(text).error).toMatch(error);
  });
});

describe('reading the form', () => {
  it('reads a tag audience with notification details, by the field table', () => {
    const parsed = draftFromModal(values({ message: 'hi', audience: 'tags', tags_all: 'a,b', tags_any: 'c', lifetime: '3600', sender: ' bob ', push_title: 'T', badge_mode: '1', note: 'pls' }));
    expect(parsed).toEqual({
      ok: true,
      draft: { message: 'hi', audience: { kind: 'tags', all: ['a', 'b'], any: ['c'] }, lifetimeSeconds: 3600, sender: 'bob', offlinePush: { title: 'T', apnsBadgeMode: 1 }, note: 'pls' },
    });
  });

  it('an untouched storage choice is 1 day, never "online users only"', () => {
    const parsed = draftFromModal(values(ALL));
    expect(parsed.ok && parsed.draft.lifetimeSeconds).toBe(86400);
  });

  it('tags "all of" and "any of" both take commas and new lines', () => {
    const parsed = draftFromModal(values({ message: 'x', audience: 'tags', tags_all: 'a\nb, c', tags_any: 'd,e\nf' }));
    expect(parsed.ok && parsed.draft.audience).toEqual({ kind: 'tags', all: ['a', 'b', 'c'], any: ['d', 'e', 'f'] });
  });

  it('the send time, in epoch seconds, becomes an ISO time', () => {
    const parsed = draftFromModal(values({ ...ALL, send_at: '1795827600' }));
    expect(parsed.ok && parsed.draft.sendAt).toBe('2026-11-28T01:00:00.000Z');
  });

  it('prefillFromState gives back what was typed, keyed like the table', () => {
    const p = prefillFromState(values({ message: 'm', audience: 'tags', tags_any: 'x', push_desc: 'd' }));
    expect(p).toEqual({ message: 'm', audience: 'tags', tagsAny: 'x', pushDesc: 'd', lifetime: '86400' });
    expect(Object.keys(p).every((k) => REQUEST_FORM.some((f) => f.key === k))).toBe(true);
  });
});

describe('errors: all of them, in one pass, at the block where they were typed', () => {
  it.each([
    [{ message: '  ', audience: 'all' }, ['message']],
    [{ message: 'x' }, ['audience']],
    [{ message: 'x', audience: 'tags' }, ['tags_all']],
    [{ message: 'x', audience: 'attributes' }, ['attrs_all']],
    [{ message: 'x', audience: 'all', tags_any: 'vip' }, ['tags_any']],
    [{ message: 'x', audience: 'all', attrs_all: 'a=b' }, ['attrs_all']],
    [{ message: 'x', audience: 'tags', tags_all: 'vip', attrs_any: 'a=b' }, ['attrs_any']],
    [{ message: 'x', audience: 'attributes', attrs_all: 'a=b', tags_all: 'vip' }, ['tags_all']],
    [{ message: 'x', audience: 'tags', tags_all: 'vip, vip' }, ['tags_all']],
  ])('%j → %j', (fields, blocks) => {
    const parsed = draftFromModal(values(fields as Record<string, string>));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(Object.keys(parsed.errors).sort()).toEqual(blocks);
  });

  it('a bad tag and bad JSON in the notification data are reported together', () => {
    const parsed = draftFromModal(values({ message: 'x', audience: 'tags', tags_all: `ok, ${'长'.repeat(17)}`, push_ext: '{not json' }));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(Object.keys(parsed.errors).sort()).toEqual(['push_ext', 'tags_all']);
    expect(parsed.errors.tags_all).toMatch(/bytes/);
    expect(parsed.errors.push_ext).toMatch(/valid JSON/);
  });

  it('form errors and push-rule errors come together: no audience, and too many tags typed anyway, and bad JSON', () => {
    const tags = Array.from({ length: 11 }, (_, i) => `t${i}`).join(',');
    const parsed = draftFromModal(values({ message: 'x', audience: null, tags_any: tags, push_ext: '[' }));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(Object.keys(parsed.errors).sort()).toEqual(['audience', 'push_ext', 'tags_any']);
  });

  it('an unknown attribute name is an error at its field, listing the names the app knows', () => {
    const parsed = draftFromModal(values({ message: 'x', audience: 'attributes', attrs_all: 'city=SZ\ncountry=CN' }), { attributeNames: ['city', 'level'] });
    expect(parsed).toEqual({ ok: false, errors: { attrs_all: '“country” is not an attribute name of this app. Known names: city, level.' } });
    // When Tencent did not say, any name is accepted.
    expect(draftFromModal(values({ message: 'x', audience: 'attributes', attrs_all: 'country=CN' }), {}).ok).toBe(true);
  });

  it('send-time errors of the domain join the others', () => {
    const parsed = draftFromModal(values({ message: 'x', audience: 'all', send_at: '1', push_ext: '[' }), {
      sendAtErrors: (d) => (d.sendAt ? [{ field: 'sendAt', message: 'This time has already passed.' }] : []),
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors).toMatchObject({ send_at: 'This time has already passed.', push_ext: expect.stringMatching(/JSON/) });
  });

  it('a push the card could not show in full is refused on its longest field', () => {
    const parsed = draftFromModal(values({ message: '\u0001'.repeat(1300), audience: 'all', push_desc: '\u0001'.repeat(1000), push_ext: JSON.stringify({ e: '"'.repeat(300) }), note: 'n'.repeat(1000) }), {
      fitErrors: (d, b) => fitErrors(d, b, ctx()),
    });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.errors.message).toMatch(/^Too long for the approval card.*shorten this by at least \d+ characters\.$/);
  });

  it('readForm keeps what it could read when a field is wrong', () => {
    const { draft, errors } = readForm(values({ message: 'x', audience: 'tags', tags_all: 'a, a', push_title: 'T' }));
    expect(errors).toEqual({ tags_all: 'Tag “a” is listed twice; list each tag once.' });
    expect(draft.offlinePush).toEqual({ title: 'T' });
  });

  it('blockErrors maps domain fields to block ids and joins several messages for one block', () => {
    expect(
      blockErrors([
        { field: 'tagsAll', message: 'one.' },
        { field: 'tagsAll', message: 'two.' },
        { field: 'tagsAll', message: 'two.' },
        { field: 'pushExt', message: 'json.' },
      ]),
    ).toEqual({ tags_all: 'one. two.', push_ext: 'json.' });
  });
});
