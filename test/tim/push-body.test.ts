import { describe, expect, it } from 'vitest';
import {
  ImPushBodySchema,
  PUSH_LIMITS,
  canonicalJson,
  checkPushBody,
  utf8Bytes,
  type PushRuleViolation,
} from '../../src/tim/push-body.js';

type Body = Record<string, unknown>;

const base = (): Body => ({
  From_Account: 'admin',
  MsgRandom: 56512,
  MsgLifeTime: 120,
  MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: { Text: 'hi, beauty' } }],
});
const withBody = (patch: Body): Body => ({ ...base(), ...patch });
const withCondition = (Condition: unknown): Body => withBody({ Condition });
const without = (key: string): Body => {
  const b = base();
  delete b[key];
  return b;
};
const text = (Text: unknown) => ({ MsgType: 'TIMTextElem', MsgContent: { Text } });
const custom = (Desc = 'news') => ({ MsgType: 'TIMCustomElem', MsgContent: { Data: '{"k":1}', Desc } });

const cn16 = '汉'.repeat(16); // 48 bytes
const cn17 = '汉'.repeat(17); // 51 bytes
const emoji12 = '🎉'.repeat(12); // 48 bytes
const emoji13 = '🎉'.repeat(13); // 52 bytes
const tags = (n: number) => Array.from({ length: n }, (_, i) => `tag${i}`);

const allElements = [
  { MsgType: 'TIMTextElem', MsgContent: { Text: 'hello' } },
  { MsgType: 'TIMLocationElem', MsgContent: { Desc: 'office', Latitude: 22.5, Longitude: 113.9 } },
  { MsgType: 'TIMFaceElem', MsgContent: { Index: 1, Data: 'smile' } },
  { MsgType: 'TIMCustomElem', MsgContent: { Data: 'x', Desc: 'd', Ext: 'e', Sound: 's.mp3' } },
  { MsgType: 'TIMSoundElem', MsgContent: { Url: 'https://x/a.m4a', UUID: 'u1', Size: 10, Second: 2, Download_Flag: 2 } },
  {
    MsgType: 'TIMImageElem',
    MsgContent: { UUID: 'u2', ImageFormat: 1, ImageInfoArray: [{ Type: 1, Size: 1, Width: 10, Height: 10, URL: 'https://x/i.jpg' }] },
  },
  { MsgType: 'TIMFileElem', MsgContent: { Url: 'https://x/f', UUID: 'u3', FileSize: 5, FileName: 'f.txt', Download_Flag: 2 } },
  {
    MsgType: 'TIMVideoFileElem',
    MsgContent: {
      VideoUrl: 'https://x/v.mp4', VideoUUID: 'v', VideoSize: 1, VideoSecond: 1, VideoFormat: 'mp4', VideoDownloadFlag: 2,
      ThumbUrl: 'https://x/t.jpg', ThumbUUID: 't', ThumbSize: 1, ThumbWidth: 1, ThumbHeight: 1, ThumbFormat: 'JPG', ThumbDownloadFlag: 2,
    },
  },
];

const fullOfflinePush = {
  PushFlag: 0,
  Title: 'Title',
  Desc: 'Content to push offline',
  Ext: '{"page":"news"}',
  AndroidInfo: { Sound: 'android', HuaWeiChannelID: 'c', VIVOClassification: 1, HuaWeiImportance: 'LOW', HuaWeiCategory: 'MARKETING', OPPOCategory: 'MARKETING' },
  ApnsInfo: { Sound: 'apns.mp3', BadgeMode: 1, Title: 't', SubTitle: 's', Image: 'https://x/i.png', MutableContent: 1 },
};

const passing: [string, unknown][] = [
  ['the documented minimal body', base()],
  ['no From_Account, no MsgLifeTime', { MsgRandom: 1, MsgBody: [text('x')] }],
  ['MsgRandom 0', withBody({ MsgRandom: 0 })],
  ['MsgRandom 4294967295', withBody({ MsgRandom: 4294967295 })],
  ['MsgLifeTime 0', withBody({ MsgLifeTime: 0 })],
  ['MsgLifeTime 604800', withBody({ MsgLifeTime: 604800 })],
  ['16 Chinese characters (48 bytes) tag', withCondition({ TagsAnd: [cn16] })],
  ['50-byte ASCII tag', withCondition({ TagsOr: ['a'.repeat(50)] })],
  ['12 emoji (48 bytes) tag', withCondition({ TagsOr: [emoji12] })],
  ['10 tags', withCondition({ TagsAnd: tags(10), TagsOr: ['other'] })],
  ['distinct TagsAnd and TagsOr', withCondition({ TagsAnd: ['Stock A'], TagsOr: ['Stock B', 'Stock C'] })],
  ['attributes only', withCondition({ AttrsAnd: { city: 'Shenzhen', 会员等级: '超白金会员' }, AttrsOr: { sex: '男' } })],
  ['one custom element with text', withBody({ MsgBody: [text('a'), custom()] })],
  ['every element type', withBody({ MsgBody: allElements })],
  ['full OfflinePushInfo with JSON Ext', withBody({ OfflinePushInfo: fullOfflinePush })],
  ['message of exactly 8000 bytes', withBody({ MsgBody: [text('a'.repeat(8000 - utf8Bytes(JSON.stringify([text('')]))))] })],
];

const failing: [string, unknown, number, (string | number)[]][] = [
  // 90020 tag bytes
  ['17 Chinese characters (51 bytes) tag', withCondition({ TagsAnd: ['ok', cn17] }), 90020, ['Condition', 'TagsAnd', 1]],
  ['51-byte ASCII tag', withCondition({ TagsOr: ['a'.repeat(51)] }), 90020, ['Condition', 'TagsOr', 0]],
  ['13 emoji (52 bytes) tag', withCondition({ TagsOr: [emoji13] }), 90020, ['Condition', 'TagsOr', 0]],
  // 90032 tag count
  ['11 tags', withCondition({ TagsOr: tags(11) }), 90032, ['Condition', 'TagsOr']],
  // 90022 tag in both lists
  ['tag in both lists', withCondition({ TagsAnd: ['a', 'b'], TagsOr: ['c', 'b'] }), 90022, ['Condition', 'TagsOr', 1]],
  // 90040 empty tags
  ['empty tag', withCondition({ TagsAnd: ['a', ''] }), 90040, ['Condition', 'TagsAnd', 1]],
  ['whitespace-only tag', withCondition({ TagsOr: ['  \t'] }), 90040, ['Condition', 'TagsOr', 0]],
  // 90039 tags + attributes
  ['tags and attributes', withCondition({ TagsAnd: ['a'], AttrsOr: { city: 'Shenzhen' } }), 90039, ['Condition']],
  // 90026 MsgLifeTime
  ['MsgLifeTime 604801', withBody({ MsgLifeTime: 604801 }), 90026, ['MsgLifeTime']],
  ['MsgLifeTime -1', withBody({ MsgLifeTime: -1 }), 90026, ['MsgLifeTime']],
  ['MsgLifeTime 1.5', withBody({ MsgLifeTime: 1.5 }), 90026, ['MsgLifeTime']],
  ['MsgLifeTime as text', withBody({ MsgLifeTime: '120' }), 90026, ['MsgLifeTime']],
  // 90005 MsgRandom
  ['MsgRandom missing', without('MsgRandom'), 90005, ['MsgRandom']],
  ['MsgRandom float', withBody({ MsgRandom: 1.5 }), 90005, ['MsgRandom']],
  ['MsgRandom negative', withBody({ MsgRandom: -1 }), 90005, ['MsgRandom']],
  ['MsgRandom 4294967296', withBody({ MsgRandom: 4294967296 }), 90005, ['MsgRandom']],
  ['MsgRandom as text', withBody({ MsgRandom: '56512' }), 90005, ['MsgRandom']],
  // 90007 / 90002 / 80002 MsgBody
  ['MsgBody not an array', withBody({ MsgBody: { MsgType: 'TIMTextElem' } }), 90007, ['MsgBody']],
  ['MsgBody missing', without('MsgBody'), 90002, ['MsgBody']],
  ['MsgBody empty', withBody({ MsgBody: [] }), 90002, ['MsgBody']],
  ['unknown element type', withBody({ MsgBody: [{ MsgType: 'TIMFooElem', MsgContent: {} }] }), 90002, ['MsgBody', 0, 'MsgType']],
  ['element not an object', withBody({ MsgBody: ['hello'] }), 90002, ['MsgBody', 0]],
  ['text element without Text', withBody({ MsgBody: [{ MsgType: 'TIMTextElem', MsgContent: {} }] }), 90002, ['MsgBody', 0, 'MsgContent', 'Text']],
  ['text element with empty Text', withBody({ MsgBody: [text(' ')] }), 90002, ['MsgBody', 0, 'MsgContent', 'Text']],
  ['element without MsgContent', withBody({ MsgBody: [{ MsgType: 'TIMTextElem' }] }), 90002, ['MsgBody', 0, 'MsgContent']],
  ['sound element with Download_Flag 1', withBody({ MsgBody: [{ MsgType: 'TIMSoundElem', MsgContent: { Url: 'u', UUID: 'u', Size: 1, Second: 1, Download_Flag: 1 } }] }), 90002, ['MsgBody', 0, 'MsgContent', 'Download_Flag']],
  ['two custom elements', withBody({ MsgBody: [custom(), custom('second')] }), 90002, ['MsgBody', 1]],
  ['message over 8000 bytes', withBody({ MsgBody: [text('汉'.repeat(2667))] }), 80002, ['MsgBody']],
  // 90010 format: Ext, empty conditions, unknown keys
  ['Ext not JSON', withBody({ OfflinePushInfo: { Ext: 'Passthrough content' } }), 90010, ['OfflinePushInfo', 'Ext']],
  ['Ext over 1024 bytes', withBody({ OfflinePushInfo: { Ext: JSON.stringify({ a: 'x'.repeat(1100) }) } }), 90010, ['OfflinePushInfo', 'Ext']],
  ['PushFlag 2', withBody({ OfflinePushInfo: { PushFlag: 2 } }), 90010, ['OfflinePushInfo', 'PushFlag']],
  ['ApnsInfo.BadgeMode as text', withBody({ OfflinePushInfo: { ApnsInfo: { BadgeMode: 'none' } } }), 90010, ['OfflinePushInfo', 'ApnsInfo', 'BadgeMode']],
  ['misspelt OfflinePushInfo field', withBody({ OfflinePushInfo: { Titel: 'x' } }), 90010, ['OfflinePushInfo', 'Titel']],
  ['empty Condition', withCondition({}), 90010, ['Condition']],
  ['Condition is null', withCondition(null), 90010, ['Condition']],
  ['empty AttrsAnd', withCondition({ AttrsAnd: {} }), 90010, ['Condition', 'AttrsAnd']],
  ['empty TagsOr list', withCondition({ TagsOr: [] }), 90010, ['Condition', 'TagsOr']],
  ['misspelt Condition key', withCondition({ Tags: ['vip'] }), 90010, ['Condition', 'Tags']],
  ['unknown top-level field', withBody({ MsgLifetime: 600 }), 90010, ['MsgLifetime']],
  ['empty From_Account', withBody({ From_Account: '' }), 90010, ['From_Account']],
  // 90033 attributes
  ['empty attribute value', withCondition({ AttrsAnd: { city: '' } }), 90033, ['Condition', 'AttrsAnd', 'city']],
  ['empty attribute name', withCondition({ AttrsOr: { ' ': 'x' } }), 90033, ['Condition', 'AttrsOr', ' ']],
  ['non-text attribute value', withCondition({ AttrsOr: { level: 3 } }), 90033, ['Condition', 'AttrsOr', 'level']],
  // 90001 not an object
  ['body is an array', [], 90001, []],
  ['body is null', null, 90001, []],
];

describe('checkPushBody', () => {
  it.each(passing)('passes: %s', (_name, input) => {
    const r = checkPushBody(input);
    expect(r.ok ? [] : r.violations).toEqual([]);
    expect(r.ok && r.body).toEqual(input);
  });

  it.each(failing)('fails: %s → %i', (_name, input, code, path) => {
    const r = checkPushBody(input);
    expect(r.ok).toBe(false);
    const violations: PushRuleViolation[] = r.ok ? [] : r.violations;
    expect(violations).toContainEqual(expect.objectContaining({ code, path }));
    for (const v of violations) expect(v.message.length).toBeGreaterThan(10);
  });

  it('explains tag length in bytes and characters', () => {
    const r = checkPushBody(withCondition({ TagsAnd: [cn17] }));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.violations[0]?.message).toBe(`Tag “${cn17}” is 51 bytes; Tencent allows at most 50 bytes (UTF-8, so about 16 Chinese characters).`);
  });

  it('says that an empty condition means every user', () => {
    const r = checkPushBody(withCondition({}));
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.violations.map((v) => v.message).join(' ')).toMatch(/EVERY user/);
  });

  it('reports all violations together, not just the first', () => {
    const input = {
      MsgLifeTime: 700000,
      MsgBody: [custom(), custom()],
      Condition: { TagsAnd: [...tags(10), cn17], TagsOr: ['tag0', ''], AttrsAnd: { city: 'x' } },
      OfflinePushInfo: { Ext: 'nope' },
    };
    const r = checkPushBody(input);
    expect(r.ok).toBe(false);
    const codes = r.ok ? [] : r.violations.map((v) => v.code);
    expect(new Set(codes)).toEqual(new Set([90005, 90026, 90002, 90020, 90032, 90022, 90040, 90039, 90010]));
  });

  it('does not strip unknown vendor keys from AndroidInfo (the hash covers what is sent)', () => {
    const r = checkPushBody(withBody({ OfflinePushInfo: { AndroidInfo: { HonorImportance: 'LOW' } } }));
    expect(r.ok && r.body.OfflinePushInfo?.AndroidInfo).toEqual({ HonorImportance: 'LOW' });
  });
});

describe('ImPushBodySchema', () => {
  it('accepts a valid body', () => {
    expect(ImPushBodySchema.safeParse(base()).success).toBe(true);
  });

  it('rejects with the Tencent code in the issue params', () => {
    const r = ImPushBodySchema.safeParse(withCondition({ TagsAnd: tags(11) }));
    expect(r.success).toBe(false);
    const issue = r.error?.issues[0];
    expect(issue?.path).toEqual(['Condition', 'TagsAnd']);
    expect(issue && 'params' in issue ? issue.params : undefined).toEqual({ timCode: 90032 });
  });
});

describe('utf8Bytes and PUSH_LIMITS', () => {
  it.each([
    ['a', 1],
    ['汉', 3],
    ['🎉', 4],
    ['é', 2],
    ['', 0],
  ])('%s is %i bytes', (s, n) => expect(utf8Bytes(s)).toBe(n));

  it('has the documented limits', () => {
    expect(PUSH_LIMITS).toEqual({ maxTags: 10, maxTagBytes: 50, maxLifeTimeSeconds: 604800, maxMsgBodyBytes: 8000, maxExtBytes: 1024 });
  });
});

describe('canonicalJson', () => {
  it('is independent of key order, at every level', () => {
    const a = { b: 1, a: { y: [1, { d: 2, c: 3 }], x: 'x' } };
    const b = { a: { x: 'x', y: [1, { c: 3, d: 2 }] }, b: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(canonicalJson(a)).toBe('{"a":{"x":"x","y":[1,{"c":3,"d":2}]},"b":1}');
  });

  it('sorts integer-like keys as strings', () => {
    expect(canonicalJson({ '2': 'b', '10': 'a', x: 1 })).toBe('{"10":"a","2":"b","x":1}');
  });

  it('keeps array order, drops undefined, and parses back to the same value', () => {
    const v = { z: [3, 1, 2], u: undefined, s: '汉"\n' };
    expect(canonicalJson(v)).toBe('{"s":"汉\\"\\n","z":[3,1,2]}');
    expect(JSON.parse(canonicalJson(v))).toEqual({ z: [3, 1, 2], s: '汉"\n' });
  });

  it('distinguishes bodies that differ only in MsgRandom', () => {
    expect(canonicalJson(withBody({ MsgRandom: 1 }))).not.toBe(canonicalJson(withBody({ MsgRandom: 2 })));
  });

  it('refuses circular structures', () => {
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(() => canonicalJson(o)).toThrow(/circular/);
  });
});
