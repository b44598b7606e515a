/**
 * The REAL request modal, submitted with invalid input: every mistake is answered at the block where it
 * was typed (response_action 'errors', plain words), and nothing is stored or posted. Inputs at the edge
 * of a limit that are valid go through, and are pushed exactly as typed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDraft } from '../../src/broadcast/draft.js';
import { APPROVAL_CHANNEL, APPROVER, FORMS, REQUESTER, startHarness, type Harness } from '../helpers/harness.js';
import { pushesOf, stateOf, submitOk, waitForThreadReply } from './flow-helpers.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(async () => {
  await h?.stop();
});

type Fields = Record<string, string | null>;

/** What the app has recorded or said so far: must not change on a refused form. */
async function snapshot() {
  return {
    requests: (await h.app.service.queries.recent(100)).map((r) => r.id),
    cards: h.fake.messages(APPROVAL_CHANNEL).length,
    dms: h.fake.dms(REQUESTER).length,
  };
}

/**
 * Submit the real modal with `fields` and expect errors at exactly `blocks`, nothing stored and
 * nothing posted. Returns the error texts by block.
 */
async function expectRefused(fields: Fields, blocks: string[]): Promise<Record<string, string>> {
  const before = await snapshot();
  const res = await h.submit(fields);
  expect(res.status).toBe(200);
  expect(res.json).toMatchObject({ response_action: 'errors' });
  const errors = res.json.errors as Record<string, string>;
  expect(Object.keys(errors).sort()).toEqual([...blocks].sort());
  for (const text of Object.values(errors)) {
    expect(typeof text).toBe('string');
    expect(text.length).toBeGreaterThan(10);
    // Plain words for a person, not a stack trace or a raw validator dump.
    expect(text).not.toMatch(/Error:|undefined|\[object|ZodError|invalid_type/);
  }
  expect(res.request).toBeUndefined();
  await h.settle();
  expect(await snapshot()).toEqual(before);
  return errors;
}

/** Approve a stored request and wait until it is sent; returns the body Tencent received. */
async function approveAndGetPush(id: string) {
  const request = (await h.request(id))!;
  await h.click('approve', id, APPROVER);
  await waitForThreadReply(h, id, /TaskId/);
  expect(await stateOf(h, id)).toBe('sent');
  const pushes = pushesOf(h, request);
  expect(pushes).toHaveLength(1);
  return pushes[0]!.body;
}

const CJK_16 = '一二三四五六七八九十一二三四五六'; // 48 bytes
const CJK_17 = '一二三四五六七八九十一二三四五六七'; // 51 bytes

describe('the modal’s own rules', () => {
  it('an empty message', async () => {
    const errors = await expectRefused({ ...FORMS.all, message: null }, ['message']);
    expect(errors.message).toMatch(/Write the message/);
  });

  it('a message of only spaces and new lines', async () => {
    const errors = await expectRefused({ ...FORMS.all, message: '  \n  ' }, ['message']);
    expect(errors.message).toMatch(/Write the message/);
  });

  it('no audience chosen', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: null, lifetime: '0' }, ['audience']);
    expect(errors.audience).toMatch(/Choose who receives the push/);
  });

  it('audience tags, but no tags', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'tags', lifetime: '0' }, ['tags_all']);
    expect(errors.tags_all).toMatch(/at least one tag/);
  });

  it('audience tags, with attributes filled in too', async () => {
    const errors = await expectRefused({ ...FORMS.tagsAll, attrs_all: 'city=Shenzhen' }, ['attrs_all']);
    expect(errors.attrs_all).toMatch(/Tags and attributes cannot be combined/);
  });

  it('audience attributes, with tags filled in too', async () => {
    const errors = await expectRefused({ ...FORMS.attrsAll, tags_any: 'vip' }, ['tags_any']);
    expect(errors.tags_any).toMatch(/Tags and attributes cannot be combined/);
  });

  it('audience everyone, with tags filled in', async () => {
    const errors = await expectRefused({ ...FORMS.all, tags_all: 'vip' }, ['tags_all']);
    expect(errors.tags_all).toMatch(/You chose Everyone: clear the tags/);
  });

  it('a tag list that only looks filled in (",, ,")', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'tags', tags_all: ',, ,', lifetime: '0' }, ['tags_all']);
    expect(errors.tags_all).toMatch(/at least one tag/);
  });

  it('the same tag twice in one list', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'tags', tags_any: 'vip\nbeta\nvip', lifetime: '0' }, ['tags_any']);
    expect(errors.tags_any).toMatch(/“vip” is listed twice/);
  });

  it('an attribute line without "="', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'attributes', attrs_all: 'city=Shenzhen\nlevel gold', lifetime: '0' }, [
      'attrs_all',
    ]);
    expect(errors.attrs_all).toMatch(/Line 2 .*level gold.* has no “=”/);
  });

  it('an attribute listed twice', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'attributes', attrs_any: 'city=a\ncity=b', lifetime: '0' }, ['attrs_any']);
    expect(errors.attrs_any).toMatch(/“city” is listed twice/);
  });
});

describe('the push rules, reported at the block', () => {
  it('11 tags in one list (Tencent allows 10)', async () => {
    const tags = Array.from({ length: 11 }, (_, i) => `t${i + 1}`).join(',');
    const errors = await expectRefused({ message: 'Hi', audience: 'tags', tags_all: tags, lifetime: '0' }, ['tags_all']);
    expect(errors.tags_all).toMatch(/11 tags/);
    expect(errors.tags_all).toMatch(/at most 10/);
  });

  it('a tag of 17 Chinese characters (51 bytes, over the 50-byte limit)', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'tags', tags_any: `vip\n${CJK_17}`, lifetime: '0' }, ['tags_any']);
    expect(errors.tags_any).toContain(CJK_17);
    expect(errors.tags_any).toMatch(/51 bytes/);
    expect(errors.tags_any).toMatch(/at most 50 bytes/);
  });

  it('the same tag in "all of" and "any of" (Tencent 90022)', async () => {
    const errors = await expectRefused({ message: 'Hi', audience: 'tags', tags_all: 'vip, beta', tags_any: 'beta, gamma', lifetime: '0' }, [
      'tags_any',
    ]);
    expect(errors.tags_any).toMatch(/“beta” is in both/);
  });

  it('extra data (push_ext) that is not valid JSON', async () => {
    const errors = await expectRefused({ ...FORMS.all, push_ext: '{page: news}' }, ['push_ext']);
    expect(errors.push_ext).toMatch(/must be valid JSON/);
  });

  it('a 3000-character Chinese message is over Tencent’s 8000-byte limit', async () => {
    const errors = await expectRefused({ ...FORMS.all, message: '好'.repeat(3000) }, ['message']);
    expect(errors.message).toMatch(/9\d{3} bytes/);
    expect(errors.message).toMatch(/at most 8000 bytes/);
  });

  it('offline storage of 7 days + 1 s is refused at the lifetime field (the select cannot offer it)', () => {
    const draft = { message: 'Hi', audience: { kind: 'all' as const }, lifetimeSeconds: 604801 };
    const checked = checkDraft(draft, 12345);
    expect(checked.ok).toBe(false);
    if (checked.ok) return;
    expect(checked.errors).toEqual([expect.objectContaining({ field: 'lifetime', code: 90026 })]);
    expect(checked.errors[0]!.message).toMatch(/604801 seconds/);
    expect(checkDraft({ ...draft, lifetimeSeconds: 604800 }, 12345).ok).toBe(true);
  });
});

describe('valid input at the limits goes through, exactly as typed', () => {
  it('a tag of 16 Chinese characters (48 bytes) is accepted and pushed', async () => {
    const request = await submitOk(h, { message: 'Hi', audience: 'tags', tags_all: CJK_16, lifetime: '0' });
    expect(request.body.Condition).toStrictEqual({ TagsAnd: [CJK_16] });
    const body = await approveAndGetPush(request.id);
    expect(body.Condition).toStrictEqual({ TagsAnd: [CJK_16] });
  });

  it('emoji tags within the byte limit are accepted', async () => {
    const family = '👨‍👩‍👧‍👦'; // 25 bytes: 4 emoji joined by zero-width joiners
    const twelve = '🎉'.repeat(12); // 48 bytes
    const request = await submitOk(h, { message: 'Party', audience: 'tags', tags_any: `${family}, ${twelve}, vip🔥`, lifetime: '0' });
    expect(request.body.Condition).toStrictEqual({ TagsOr: [family, twelve, 'vip🔥'] });
  });

  it('an emoji tag over 50 bytes is refused', async () => {
    const errors = await expectRefused({ message: 'Party', audience: 'tags', tags_any: '🎉'.repeat(13), lifetime: '0' }, ['tags_any']);
    expect(errors.tags_any).toMatch(/52 bytes/);
  });

  it('"=" inside an attribute value is kept, and pushed as such', async () => {
    const request = await submitOk(h, { message: 'Hi', audience: 'attributes', attrs_any: 'ref=a=b==\ncity = 深圳', lifetime: '0' });
    expect(request.draft.audience).toEqual({ kind: 'attributes', all: {}, any: { ref: 'a=b==', city: '深圳' } });
    const body = await approveAndGetPush(request.id);
    expect(body.Condition).toStrictEqual({ AttrsOr: { ref: 'a=b==', city: '深圳' } });
  });

  it('a 3000-character message (the modal maximum) is accepted and pushed in full', async () => {
    // 300 lines of 10 characters (new lines included), the last one closed by "!" instead of a new line.
    const message = `${Array.from({ length: 300 }, (_, i) => `Line ${String(i).padStart(3, '0')}.\n`).join('').slice(0, -1)}!`;
    expect(message).toHaveLength(3000);
    const request = await submitOk(h, { ...FORMS.all, message });
    expect(request.draft.message).toBe(message);
    const body = await approveAndGetPush(request.id);
    expect(body.MsgBody).toStrictEqual([{ MsgType: 'TIMTextElem', MsgContent: { Text: message } }]);
  });
});
