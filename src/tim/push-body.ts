// The im_push request body (v4/all_member_push/im_push) and every documented rule,
// checked before anything is approved so Tencent never has to reject it.
// Reference: /work/shared/reference/tencent-im-push.md §1.3, §1.4, §1.6, §3.
import { z } from 'zod';

export const PUSH_LIMITS = {
  maxTags: 10,
  maxTagBytes: 50,
  maxLifeTimeSeconds: 604800,
  maxMsgBodyBytes: 8000,
  maxExtBytes: 1024,
} as const;

/** Attribute names and values share the tag byte limit (im_set_attr_name / im_set_attr). */
const MAX_ATTR_BYTES = 50;
/** An app has at most 10 attribute names ("0".."9"), so a condition can never need more. */
const MAX_ATTRS = 10;
const MAX_UINT32 = 4294967295;

export function utf8Bytes(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

// ---------------------------------------------------------------------------------------------
// Element schemas (§3). MsgContent objects are loose: unknown keys are kept, never stripped,
// so the body we hash is the body we send.

const DownloadFlag = z.literal(2);

export const TIMTextElemSchema = z.looseObject({ Text: z.string() });
export const TIMCustomElemSchema = z.looseObject({
  Data: z.string().optional(),
  Desc: z.string().optional(),
  Ext: z.string().optional(),
  Sound: z.string().optional(),
});
export const TIMLocationElemSchema = z.looseObject({
  Desc: z.string(),
  Latitude: z.number(),
  Longitude: z.number(),
});
export const TIMFaceElemSchema = z.looseObject({ Index: z.int(), Data: z.string().optional() });
export const TIMSoundElemSchema = z.looseObject({
  Url: z.string(),
  UUID: z.string(),
  Size: z.number().nonnegative(),
  Second: z.number().nonnegative(),
  Download_Flag: DownloadFlag,
});
export const TIMImageInfoSchema = z.looseObject({
  Type: z.literal([1, 2, 3]),
  Size: z.number().nonnegative().optional(),
  Width: z.number().nonnegative(),
  Height: z.number().nonnegative(),
  URL: z.string(),
});
export const TIMImageElemSchema = z.looseObject({
  UUID: z.string(),
  ImageFormat: z.literal([1, 2, 3, 4, 255]),
  ImageInfoArray: z.array(TIMImageInfoSchema).min(1),
});
export const TIMFileElemSchema = z.looseObject({
  Url: z.string(),
  UUID: z.string(),
  FileSize: z.number().nonnegative(),
  FileName: z.string(),
  Download_Flag: DownloadFlag,
});
export const TIMVideoFileElemSchema = z.looseObject({
  VideoUrl: z.string(),
  VideoUUID: z.string(),
  VideoSize: z.number().nonnegative(),
  VideoSecond: z.number().nonnegative(),
  VideoFormat: z.string(),
  VideoDownloadFlag: DownloadFlag,
  ThumbUrl: z.string(),
  ThumbUUID: z.string(),
  ThumbSize: z.number().nonnegative(),
  ThumbWidth: z.number().nonnegative(),
  ThumbHeight: z.number().nonnegative(),
  ThumbFormat: z.string(),
  ThumbDownloadFlag: DownloadFlag,
});

const CONTENT_SCHEMAS = {
  TIMTextElem: TIMTextElemSchema,
  TIMLocationElem: TIMLocationElemSchema,
  TIMFaceElem: TIMFaceElemSchema,
  TIMCustomElem: TIMCustomElemSchema,
  TIMSoundElem: TIMSoundElemSchema,
  TIMImageElem: TIMImageElemSchema,
  TIMFileElem: TIMFileElemSchema,
  TIMVideoFileElem: TIMVideoFileElemSchema,
} as const;
export type MsgType = keyof typeof CONTENT_SCHEMAS;
export const MSG_TYPES = Object.keys(CONTENT_SCHEMAS) as readonly MsgType[];

function elem<T extends MsgType>(type: T) {
  return z.strictObject({ MsgType: z.literal(type), MsgContent: CONTENT_SCHEMAS[type] });
}

export const MsgElementSchema = z.discriminatedUnion('MsgType', [
  elem('TIMTextElem'),
  elem('TIMLocationElem'),
  elem('TIMFaceElem'),
  elem('TIMCustomElem'),
  elem('TIMSoundElem'),
  elem('TIMImageElem'),
  elem('TIMFileElem'),
  elem('TIMVideoFileElem'),
]);
export type MsgElement = z.output<typeof MsgElementSchema>;
export type TIMTextElem = z.output<typeof TIMTextElemSchema>;
export type TIMCustomElem = z.output<typeof TIMCustomElemSchema>;

// ---------------------------------------------------------------------------------------------
// Body schema (§1.3, §1.4). Top level, Condition, OfflinePushInfo and ApnsInfo are strict:
// Tencent silently ignores unknown keys, and a misspelt "Condition" key would widen the
// audience to everyone. AndroidInfo stays loose because vendors keep adding keys.

const Flag = z.literal([0, 1]);

const ConditionSchema = z.strictObject({
  TagsAnd: z.array(z.string()).optional(),
  TagsOr: z.array(z.string()).optional(),
  AttrsAnd: z.record(z.string(), z.string()).optional(),
  AttrsOr: z.record(z.string(), z.string()).optional(),
});

const AndroidInfoSchema = z.looseObject({
  Sound: z.string().optional(),
  HuaWeiChannelID: z.string().optional(),
  XiaoMiChannelID: z.string().optional(),
  OPPOChannelID: z.string().optional(),
  GoogleChannelID: z.string().optional(),
  VIVOClassification: Flag.optional(),
  HuaWeiImportance: z.enum(['LOW', 'NORMAL']).optional(),
  ExtAsHuaweiIntentParam: Flag.optional(),
  HuaWeiCategory: z.string().optional(),
});

const ApnsInfoSchema = z.strictObject({
  BadgeMode: Flag.optional(),
  Title: z.string().optional(),
  SubTitle: z.string().optional(),
  Image: z.string().optional(),
  Sound: z.string().optional(),
  MutableContent: Flag.optional(),
});

const OfflinePushInfoSchema = z.strictObject({
  PushFlag: Flag.optional(),
  Title: z.string().optional(),
  Desc: z.string().optional(),
  Ext: z.string().optional(),
  AndroidInfo: AndroidInfoSchema.optional(),
  ApnsInfo: ApnsInfoSchema.optional(),
});

const StructureSchema = z.strictObject({
  From_Account: z.string().optional(),
  MsgRandom: z.int().min(0).max(MAX_UINT32),
  MsgLifeTime: z.int().min(0).max(PUSH_LIMITS.maxLifeTimeSeconds).optional(),
  MsgBody: z.array(MsgElementSchema).min(1),
  Condition: ConditionSchema.optional(),
  OfflinePushInfo: OfflinePushInfoSchema.optional(),
});

export type ImPushBody = z.output<typeof StructureSchema>;
export type PushCondition = NonNullable<ImPushBody['Condition']>;
export type OfflinePushInfo = NonNullable<ImPushBody['OfflinePushInfo']>;

export interface PushRuleViolation {
  /** The error code Tencent would return for this problem. */
  code: number;
  /** Where in the body the problem is, e.g. ['Condition', 'TagsAnd', 3]. */
  path: (string | number)[];
  /** Plain words for a non-engineer. */
  message: string;
}

/**
 * The structure plus every documented rule. Rule violations carry the Tencent code in
 * `params.timCode`. The structure is only checked once the rules pass, and the rules
 * already cover every structural problem.
 */
export const ImPushBodySchema: z.ZodType<ImPushBody> = z
  .unknown()
  .superRefine((value, ctx) => {
    for (const v of collectViolations(value)) {
      ctx.addIssue({ code: 'custom', message: v.message, path: v.path, params: { timCode: v.code } });
    }
  })
  .pipe(StructureSchema);

export function checkPushBody(
  input: unknown,
): { ok: true; body: ImPushBody } | { ok: false; violations: PushRuleViolation[] } {
  const violations = collectViolations(input);
  if (violations.length > 0) return { ok: false, violations };
  const parsed = StructureSchema.safeParse(input);
  if (parsed.success) return { ok: true, body: parsed.data };
  // Defensive: the rules above should already have caught anything the structure rejects.
  return { ok: false, violations: zodViolations(parsed.error.issues, [], 90010, 'The push') };
}

// ---------------------------------------------------------------------------------------------
// Rules

type Obj = Record<string, unknown>;
type Path = (string | number)[];

const TOP_LEVEL_KEYS = new Set(['From_Account', 'MsgRandom', 'MsgLifeTime', 'MsgBody', 'Condition', 'OfflinePushInfo']);
const TAG_LISTS = ['TagsAnd', 'TagsOr'] as const;
const ATTR_MAPS = ['AttrsAnd', 'AttrsOr'] as const;
const CONDITION_KEYS = new Set<string>([...TAG_LISTS, ...ATTR_MAPS]);

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function quote(s: string): string {
  const chars = [...s];
  return `“${chars.length > 60 ? chars.slice(0, 60).join('') + '…' : s}”`;
}

function violation(code: number, path: Path, message: string): PushRuleViolation {
  return { code, path, message };
}

function collectViolations(input: unknown): PushRuleViolation[] {
  if (!isObj(input)) {
    return [violation(90001, [], 'The push must be a JSON object with MsgRandom and MsgBody.')];
  }
  return [
    ...checkUnknownKeys(input),
    ...checkFromAccount(input.From_Account),
    ...checkMsgRandom(input.MsgRandom),
    ...checkMsgLifeTime(input.MsgLifeTime),
    ...checkMsgBody(input.MsgBody),
    ...checkCondition(input),
    ...checkOfflinePushInfo(input.OfflinePushInfo),
  ];
}

function checkUnknownKeys(input: Obj): PushRuleViolation[] {
  return Object.keys(input)
    .filter((k) => !TOP_LEVEL_KEYS.has(k))
    .map((k) =>
      violation(90010, [k], `Tencent does not know the field ${quote(k)}; it would be silently ignored. Remove it or fix its spelling.`),
    );
}

function checkFromAccount(v: unknown): PushRuleViolation[] {
  if (v === undefined) return [];
  if (typeof v !== 'string' || v.trim() === '') {
    return [violation(90010, ['From_Account'], 'The sender account must be a non-empty user ID. Leave it out to send as the app admin.')];
  }
  return [];
}

function checkMsgRandom(v: unknown): PushRuleViolation[] {
  const rule = 'It must be a whole number from 0 to 4294967295, chosen at random once per broadcast.';
  if (v === undefined) return [violation(90005, ['MsgRandom'], `MsgRandom is missing. ${rule}`)];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > MAX_UINT32) {
    return [violation(90005, ['MsgRandom'], `MsgRandom is ${JSON.stringify(v) ?? String(v)}. ${rule}`)];
  }
  return [];
}

function checkMsgLifeTime(v: unknown): PushRuleViolation[] {
  if (v === undefined) return [];
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > PUSH_LIMITS.maxLifeTimeSeconds) {
    const shown = typeof v === 'number' ? `${v} seconds` : JSON.stringify(v);
    return [
      violation(
        90026,
        ['MsgLifeTime'],
        `Offline storage time is ${shown}; Tencent allows a whole number of seconds from 0 to 604800 (7 days). 0 means only users who are online receive it.`,
      ),
    ];
  }
  return [];
}

// ---- MsgBody

function checkMsgBody(v: unknown): PushRuleViolation[] {
  if (v === undefined) return [violation(90002, ['MsgBody'], 'The message has no content (MsgBody is missing).')];
  if (!Array.isArray(v)) return [violation(90007, ['MsgBody'], 'The message content (MsgBody) must be a list of message parts.')];
  if (v.length === 0) return [violation(90002, ['MsgBody'], 'The message has no content: add at least one message part, e.g. a text.')];
  const out = v.flatMap((el, i) => checkElement(el, i));
  out.push(...checkSingleCustomElem(v));
  const bytes = utf8Bytes(JSON.stringify(v));
  if (bytes > PUSH_LIMITS.maxMsgBodyBytes) {
    out.push(
      violation(
        80002,
        ['MsgBody'],
        `The message is ${bytes} bytes; Tencent allows at most ${PUSH_LIMITS.maxMsgBodyBytes} bytes (UTF-8: a Chinese character takes 3 bytes). Shorten it.`,
      ),
    );
  }
  return out;
}

function checkElement(el: unknown, i: number): PushRuleViolation[] {
  const part = `Message part ${i + 1}`;
  if (!isObj(el)) return [violation(90002, ['MsgBody', i], `${part} must be an object with MsgType and MsgContent.`)];
  const type = el.MsgType;
  if (typeof type !== 'string' || !(type in CONTENT_SCHEMAS)) {
    return [
      violation(90002, ['MsgBody', i, 'MsgType'], `${part} has the type ${quote(String(type))}; Tencent knows only ${MSG_TYPES.join(', ')}.`),
    ];
  }
  const out: PushRuleViolation[] = Object.keys(el)
    .filter((k) => k !== 'MsgType' && k !== 'MsgContent')
    .map((k) => violation(90002, ['MsgBody', i, k], `${part} has an unknown field ${quote(k)}.`));
  const content = el.MsgContent;
  if (!isObj(content)) {
    out.push(violation(90002, ['MsgBody', i, 'MsgContent'], `${part} (${type}) has no content object (MsgContent).`));
    return out;
  }
  const parsed = CONTENT_SCHEMAS[type as MsgType].safeParse(content);
  if (!parsed.success) out.push(...zodViolations(parsed.error.issues, ['MsgBody', i, 'MsgContent'], 90002, `${part} (${type})`));
  if (type === 'TIMTextElem' && typeof content.Text === 'string' && content.Text.trim() === '') {
    out.push(violation(90002, ['MsgBody', i, 'MsgContent', 'Text'], `${part} is an empty text.`));
  }
  return out;
}

function checkSingleCustomElem(elements: unknown[]): PushRuleViolation[] {
  const customAt = elements.flatMap((el, i) => (isObj(el) && el.MsgType === 'TIMCustomElem' ? [i] : []));
  return customAt.slice(1).map((i) =>
    violation(90002, ['MsgBody', i], `Message part ${i + 1} is a second custom element; Tencent allows at most one TIMCustomElem per message.`),
  );
}

// ---- Condition

function checkCondition(input: Obj): PushRuleViolation[] {
  if (!('Condition' in input) || input.Condition === undefined) return [];
  const cond = input.Condition;
  if (!isObj(cond)) {
    return [violation(90010, ['Condition'], 'The audience condition must be an object with TagsAnd/TagsOr or AttrsAnd/AttrsOr. Leave it out to push to every user.')];
  }
  const out: PushRuleViolation[] = Object.keys(cond)
    .filter((k) => !CONDITION_KEYS.has(k))
    .map((k) =>
      violation(
        90010,
        ['Condition', k],
        `The audience has an unknown key ${quote(k)}; Tencent would ignore it and could push to more people than intended. Use TagsAnd, TagsOr, AttrsAnd or AttrsOr.`,
      ),
    );
  const present = Object.keys(cond).filter((k) => CONDITION_KEYS.has(k) && cond[k] !== undefined);
  if (present.length === 0) {
    out.push(
      violation(
        90010,
        ['Condition'],
        'The audience condition is empty, and an empty condition means EVERY user. To push to everyone, choose “All users” (which sends no condition at all); otherwise add tags or attributes.',
      ),
    );
    return out;
  }
  for (const list of TAG_LISTS) out.push(...checkTagList(cond[list], list));
  for (const map of ATTR_MAPS) out.push(...checkAttrMap(cond[map], map));
  out.push(...checkTagsInBothLists(cond));
  const hasTags = TAG_LISTS.some((k) => cond[k] !== undefined);
  const hasAttrs = ATTR_MAPS.some((k) => cond[k] !== undefined);
  if (hasTags && hasAttrs) {
    out.push(
      violation(90039, ['Condition'], 'The audience mixes tags and attributes; Tencent allows either tags or attributes in one push, not both.'),
    );
  }
  return out;
}

function checkTagList(v: unknown, list: (typeof TAG_LISTS)[number]): PushRuleViolation[] {
  if (v === undefined) return [];
  const path: Path = ['Condition', list];
  if (!Array.isArray(v)) return [violation(90010, path, `${list} must be a list of tags.`)];
  if (v.length === 0) {
    return [violation(90010, path, `${list} is an empty list of tags. Remove it or add tags; an audience without tags or attributes is every user.`)];
  }
  const out = v.flatMap((tag, i) => checkTag(tag, [...path, i]));
  if (v.length > PUSH_LIMITS.maxTags) {
    out.push(violation(90032, path, `${list} has ${v.length} tags; Tencent allows at most ${PUSH_LIMITS.maxTags} tags in one list.`));
  }
  return out;
}

function checkTag(tag: unknown, path: Path): PushRuleViolation[] {
  if (typeof tag !== 'string') return [violation(90010, path, `Each tag must be text, not ${JSON.stringify(tag)}.`)];
  if (tag.trim() === '') return [violation(90040, path, 'A tag is empty (or only spaces); Tencent rejects empty tags.')];
  const bytes = utf8Bytes(tag);
  if (bytes > PUSH_LIMITS.maxTagBytes) {
    return [
      violation(
        90020,
        path,
        `Tag ${quote(tag)} is ${bytes} bytes; Tencent allows at most ${PUSH_LIMITS.maxTagBytes} bytes (UTF-8, so about 16 Chinese characters).`,
      ),
    ];
  }
  return [];
}

function checkTagsInBothLists(cond: Obj): PushRuleViolation[] {
  const and = cond.TagsAnd;
  const or = cond.TagsOr;
  if (!Array.isArray(and) || !Array.isArray(or)) return [];
  const inAnd = new Set(and.filter((t): t is string => typeof t === 'string' && t.trim() !== ''));
  return or.flatMap((tag, i) =>
    typeof tag === 'string' && inAnd.has(tag)
      ? [violation(90022, ['Condition', 'TagsOr', i], `Tag ${quote(tag)} is in both “all of” (TagsAnd) and “any of” (TagsOr); Tencent rejects a tag in both lists.`)]
      : [],
  );
}

function checkAttrMap(v: unknown, map: (typeof ATTR_MAPS)[number]): PushRuleViolation[] {
  if (v === undefined) return [];
  const path: Path = ['Condition', map];
  if (!isObj(v)) return [violation(90033, path, `${map} must map attribute names to values, e.g. {"city": "Shenzhen"}.`)];
  const entries = Object.entries(v);
  if (entries.length === 0) {
    return [violation(90010, path, `${map} has no attributes. Remove it or add some; an audience without tags or attributes is every user.`)];
  }
  const out = entries.flatMap(([name, value]) => checkAttr(name, value, [...path, name]));
  if (entries.length > MAX_ATTRS) {
    out.push(violation(90033, path, `${map} has ${entries.length} attributes; an app can have at most ${MAX_ATTRS} attribute names.`));
  }
  return out;
}

function checkAttr(name: string, value: unknown, path: Path): PushRuleViolation[] {
  if (name.trim() === '') return [violation(90033, path, 'An attribute name is empty.')];
  if (utf8Bytes(name) > MAX_ATTR_BYTES) {
    return [violation(90033, path, `Attribute name ${quote(name)} is ${utf8Bytes(name)} bytes; Tencent allows at most ${MAX_ATTR_BYTES} bytes.`)];
  }
  if (typeof value !== 'string') return [violation(90033, path, `The value of attribute ${quote(name)} must be text.`)];
  if (value.trim() === '') return [violation(90033, path, `The value of attribute ${quote(name)} is empty.`)];
  if (utf8Bytes(value) > MAX_ATTR_BYTES) {
    return [
      violation(90033, path, `The value of attribute ${quote(name)} is ${utf8Bytes(value)} bytes; Tencent allows at most ${MAX_ATTR_BYTES} bytes.`),
    ];
  }
  return [];
}

// ---- OfflinePushInfo

function checkOfflinePushInfo(v: unknown): PushRuleViolation[] {
  if (v === undefined) return [];
  const path: Path = ['OfflinePushInfo'];
  if (!isObj(v)) return [violation(90010, path, 'The notification settings (OfflinePushInfo) must be an object.')];
  const parsed = OfflinePushInfoSchema.safeParse(v);
  const out = parsed.success ? [] : zodViolations(parsed.error.issues, path, 90010, 'Notification settings');
  if (typeof v.Ext === 'string') out.push(...checkExt(v.Ext));
  return out;
}

function checkExt(ext: string): PushRuleViolation[] {
  const path: Path = ['OfflinePushInfo', 'Ext'];
  const out: PushRuleViolation[] = [];
  try {
    JSON.parse(ext);
  } catch {
    out.push(
      violation(90010, path, 'The notification payload (Ext) must be valid JSON text, e.g. {"page":"news"}; some Android vendors drop the push otherwise.'),
    );
  }
  const bytes = utf8Bytes(ext);
  if (bytes > PUSH_LIMITS.maxExtBytes) {
    out.push(violation(90010, path, `The notification payload (Ext) is ${bytes} bytes; keep it at most ${PUSH_LIMITS.maxExtBytes} bytes.`));
  }
  return out;
}

// ---- zod issues in plain words

function zodViolations(issues: readonly z.core.$ZodIssue[], base: Path, code: number, what: string): PushRuleViolation[] {
  return issues.flatMap((issue) => {
    const path: Path = [...base, ...issue.path.filter((p): p is string | number => typeof p !== 'symbol')];
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((k) => violation(code, [...path, k], `${what}: Tencent does not know the field ${quote(k)}.`));
    }
    const field = path.slice(base.length).join('.');
    return [violation(code, path, `${what}: ${field ? `“${field}” ` : ''}${plainIssue(issue)}.`)];
  });
}

function plainIssue(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is missing' : `must be ${issue.expected === 'int' ? 'a whole number' : `a ${issue.expected}`}`;
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((x) => JSON.stringify(x)).join(', ')}`;
    case 'invalid_union':
      return 'has a value Tencent does not accept';
    case 'too_small':
      return issue.origin === 'array' ? `needs at least ${String(issue.minimum)} item(s)` : `must be at least ${String(issue.minimum)}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}`;
    default:
      return issue.message;
  }
}

// ---------------------------------------------------------------------------------------------

/**
 * Deterministic JSON: object keys sorted by code unit at every level, no whitespace.
 * Built by hand because JS objects order integer-like keys ("0","10","2") numerically,
 * so re-inserting sorted keys and calling JSON.stringify would not be deterministic.
 * Follows JSON.stringify for undefined/functions (dropped in objects, null in arrays) and toJSON.
 */
export function canonicalJson(value: unknown): string {
  return serialize(value, new Set()) ?? 'null';
}

function serialize(value: unknown, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    value = (value as { toJSON: () => unknown }).toJSON();
  }
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'bigint') throw new TypeError('canonicalJson: BigInt cannot be serialized');
    return JSON.stringify(value);
  }
  if (seen.has(value)) throw new TypeError('canonicalJson: circular structure');
  seen.add(value);
  try {
    if (Array.isArray(value)) return `[${value.map((x) => serialize(x, seen) ?? 'null').join(',')}]`;
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const s = serialize((value as Obj)[key], seen);
      if (s !== undefined) parts.push(`${JSON.stringify(key)}:${s}`);
    }
    return `{${parts.join(',')}}`;
  } finally {
    seen.delete(value);
  }
}
