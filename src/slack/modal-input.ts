import { checkDraft, type FieldError } from '../broadcast/draft.js';
import type { Audience, BroadcastDraft, OfflinePushDraft } from '../broadcast/types.js';
import type { ImPushBody } from '../tim/push-body.js';
import { REQUEST_FIELDS, REQUEST_FORM, formField, type FormField, type FormKey } from '../../views/request-fields.js';
import type { ModalPrefill } from '../../views/request-modal.js';

// The request form's state → a draft, and every error back to the block where it was typed, in
// one pass: the form's own rules, every push rule (checkDraft), the send-time rules and whether the
// card can show it all. The field table (views/request-fields.ts) names the blocks.

export type BlockErrors = Record<string, string>;

/** Form field → the block that shows its error. */
export const FIELD_BLOCK: Record<FormKey, string> = REQUEST_FIELDS;

type ElementState = {
  type?: string;
  value?: string | null;
  selected_option?: { value: string } | null;
  selected_options?: { value: string }[];
  selected_date_time?: number | null;
};
export type StateValues = Record<string, Record<string, ElementState>>;

/** The raw value of one field as the form holds it (choices by value, checkboxes comma-joined, times in epoch seconds). */
export function readField(values: StateValues, f: FormField): string {
  const element = values[f.blockId]?.[f.blockId];
  if (!element) return '';
  if (element.selected_date_time !== undefined) return element.selected_date_time === null ? '' : String(element.selected_date_time);
  if (element.selected_option !== undefined) return element.selected_option?.value ?? '';
  if (element.selected_options !== undefined) return element.selected_options.map((o) => o.value).join(',');
  return element.value ?? '';
}

/** What the form holds now, as a prefill (to redraw the form with a fresh preview). */
export function prefillFromState(values: StateValues): Partial<ModalPrefill> {
  const out: Partial<ModalPrefill> = {};
  for (const f of REQUEST_FORM) {
    const v = readField(values, f);
    if (v !== '') out[f.key] = v;
  }
  return out;
}

/** Tags separated by commas (also full-width) or new lines; blank entries are ignored. */
export function parseTags(text: string): string[] {
  return text
    .split(/[,\uFF0C\n]/)
    .map((t) => t.trim())
    .filter((t) => t.length > 0);
}

/** One name=value a line; the first "=" splits, so values may contain "=". */
export function parseAttributes(text: string): { attrs: Record<string, string>; error?: string } {
  const attrs: Record<string, string> = {};
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
  for (const [i, line] of lines.entries()) {
    const eq = line.indexOf('=');
    if (eq < 0) return { attrs, error: `Line ${i + 1} (“${line}”) has no “=”. Write one name=value a line.` };
    const name = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    if (!name) return { attrs, error: `Line ${i + 1} (“${line}”) has no attribute name before “=”.` };
    if (!value) return { attrs, error: `Attribute “${name}” has no value after “=”.` };
    if (Object.hasOwn(attrs, name)) return { attrs, error: `Attribute “${name}” is listed twice; keep one value.` };
    attrs[name] = value;
  }
  return { attrs };
}

function duplicateTag(tags: string[]): string | undefined {
  const seen = new Set<string>();
  for (const t of tags) {
    if (seen.has(t)) return t;
    seen.add(t);
  }
  return undefined;
}

export interface FormOptions {
  /** Attribute names of the IM app (im_get_attr_name, cached); absent when Tencent did not say, and then any name is accepted. */
  attributeNames?: string[] | undefined;
  /** The send-time rules of the domain (past, too far ahead, quiet hours). */
  sendAtErrors?: (draft: BroadcastDraft) => FieldError[];
  /** Whether the card and thread can show the push in full (views/fit.ts), given the body the push rules built. */
  fitErrors?: (draft: BroadcastDraft, body: ImPushBody) => Array<{ field: FormKey; message: string }>;
}

/**
 * The form's own rules, and a draft made of what could be read, even where a field is wrong, so
 * the push rules can still check every other field in the same pass.
 */
export function readForm(values: StateValues, o: Pick<FormOptions, 'attributeNames'> = {}): { draft: BroadcastDraft; errors: BlockErrors } {
  const errors: BlockErrors = {};
  const raw = (key: FormKey) => readField(values, formField(key));
  const fail = (key: FormKey, message: string) => {
    errors[FIELD_BLOCK[key]] ??= message;
  };

  const message = raw('message');
  if (message.trim() === '') fail('message', 'Write the message to send.');

  const kind = raw('audience');
  const tagsAll = parseTags(raw('tagsAll'));
  const tagsAny = parseTags(raw('tagsAny'));
  const attrsAll = parseAttributes(raw('attrsAll'));
  const attrsAny = parseAttributes(raw('attrsAny'));
  for (const [key, tags] of [['tagsAll', tagsAll], ['tagsAny', tagsAny]] as const) {
    const dup = duplicateTag(tags);
    if (dup) fail(key, `Tag “${dup}” is listed twice; list each tag once.`);
  }
  if (attrsAll.error) fail('attrsAll', attrsAll.error);
  if (attrsAny.error) fail('attrsAny', attrsAny.error);
  // Names are checked against the app's own list when Tencent told us it; otherwise people may type any.
  const known = o.attributeNames?.length ? o.attributeNames : undefined;
  for (const [key, parsed] of [['attrsAll', attrsAll], ['attrsAny', attrsAny]] as const) {
    const unknown = known ? Object.keys(parsed.attrs).filter((n) => !known.includes(n)) : [];
    if (unknown.length) {
      fail(key, `${unknown.map((n) => `“${n}”`).join(', ')} ${unknown.length === 1 ? 'is not an attribute name' : 'are not attribute names'} of this app. Known names: ${known!.join(', ')}.`);
    }
  }

  const hasTags = tagsAll.length + tagsAny.length > 0;
  const hasAttrs = Object.keys(attrsAll.attrs).length + Object.keys(attrsAny.attrs).length > 0;
  const clearTags = (why: string) => {
    if (tagsAll.length) fail('tagsAll', why);
    if (tagsAny.length) fail('tagsAny', why);
  };
  const clearAttrs = (why: string) => {
    if (Object.keys(attrsAll.attrs).length || attrsAll.error) fail('attrsAll', why);
    if (Object.keys(attrsAny.attrs).length || attrsAny.error) fail('attrsAny', why);
  };
  const tags: Audience = { kind: 'tags', all: tagsAll, any: tagsAny };
  const attributes: Audience = { kind: 'attributes', all: attrsAll.attrs, any: attrsAny.attrs };
  let audience: Audience;
  if (kind === 'all') {
    clearTags('You chose Everyone: clear the tags, or choose “Users with tags”.');
    clearAttrs('You chose Everyone: clear the attributes, or choose “Users with attributes”.');
    audience = { kind: 'all' };
  } else if (kind === 'tags') {
    if (!hasTags) fail('tagsAll', 'Enter at least one tag (here or under “any of these”), or choose another audience.');
    clearAttrs('Tags and attributes cannot be combined in one push (Tencent error 90039): clear the attributes.');
    audience = tags;
  } else if (kind === 'attributes') {
    if (!hasAttrs && !attrsAll.error && !attrsAny.error) fail('attrsAll', 'Enter at least one name=value (here or under “any of these”), or choose another audience.');
    clearTags('Tags and attributes cannot be combined in one push (Tencent error 90039): clear the tags.');
    audience = attributes;
  } else {
    fail('audience', 'Choose who receives the push.');
    // Check what was typed anyway, so its errors come in the same answer.
    audience = hasTags ? tags : hasAttrs ? attributes : { kind: 'all' };
  }

  const lifetimeText = raw('lifetime').trim();
  let lifetimeSeconds = Number(lifetimeText);
  if (!lifetimeText || !Number.isInteger(lifetimeSeconds)) {
    fail('lifetime', 'Choose how long the message is kept for users who are offline.');
    lifetimeSeconds = 86400;
  }

  const offlinePush: OfflinePushDraft = {};
  const text = (key: FormKey) => raw(key).trim();
  const put = (key: keyof OfflinePushDraft, from: FormKey) => {
    const v = text(from);
    if (v) (offlinePush as Record<string, unknown>)[key] = v;
  };
  put('title', 'pushTitle');
  put('desc', 'pushDesc');
  put('ext', 'pushExt');
  put('apnsSound', 'apnsSound');
  put('androidSound', 'androidSound');
  put('apnsImage', 'apnsImage');
  if (raw('badgeMode').split(',').includes('1')) offlinePush.apnsBadgeMode = 1;

  const sendAtText = text('sendAt');
  const sendAt = /^\d+$/.test(sendAtText) ? new Date(Number(sendAtText) * 1000).toISOString() : undefined;
  const sender = text('sender');
  const note = text('note');
  const draft: BroadcastDraft = {
    message,
    audience,
    lifetimeSeconds,
    ...(sender ? { sender } : {}),
    ...(Object.keys(offlinePush).length ? { offlinePush } : {}),
    ...(note ? { note } : {}),
    ...(sendAt ? { sendAt } : {}),
  };
  return { draft, errors };
}

/** Errors of the domain (push rules, send time), keyed to the blocks where the person typed the value. */
export function blockErrors(errors: ReadonlyArray<{ field: FormKey; message: string }>, into: BlockErrors = {}, o: { skip?: ReadonlySet<string> } = {}): BlockErrors {
  const out = into;
  for (const e of errors) {
    const block = FIELD_BLOCK[e.field];
    if (o.skip?.has(block)) continue;
    if (out[block]?.includes(e.message)) continue;
    out[block] = out[block] ? `${out[block]} ${e.message}` : e.message;
  }
  // Keep each answer readable (Slack shows a block's error under it).
  for (const k of Object.keys(out)) if ((out[k] ?? '').length > 1900) out[k] = `${out[k]!.slice(0, 1900)}…`;
  return out;
}

/**
 * Read the form and check it completely, answering every error at once: the form's own rules,
 * the push rules on every field that could be read, the send-time rules, and, when all of those
 * pass, whether the card and the thread can show the push in full.
 */
export function draftFromModal(values: StateValues, o: FormOptions = {}): { ok: true; draft: BroadcastDraft } | { ok: false; errors: BlockErrors } {
  const { draft, errors } = readForm(values, o);
  // A field the form already refused is not judged again on what could be read of it.
  const refused = new Set(Object.keys(errors));
  // An audience the form refused makes the push rules' view of the condition moot.
  if (['tagsAll', 'tagsAny', 'attrsAll', 'attrsAny'].some((k) => refused.has(FIELD_BLOCK[k as FormKey]))) refused.add(FIELD_BLOCK.audience);
  const checked = checkDraft(draft, 4294967295);
  if (!checked.ok) blockErrors(checked.errors, errors, { skip: refused });
  if (o.sendAtErrors) blockErrors(o.sendAtErrors(draft), errors, { skip: refused });
  if (!Object.keys(errors).length && checked.ok && o.fitErrors) blockErrors(o.fitErrors(draft, checked.body), errors);
  return Object.keys(errors).length ? { ok: false, errors } : { ok: true, draft };
}
