import type { DraftField, FieldError } from '../broadcast/draft.js';
import type { Audience, BroadcastDraft, OfflinePushDraft } from '../broadcast/types.js';
import { REQUEST_FIELDS } from '../../views/request-modal.js';

// Translate the request modal's state into a draft, and errors back to its blocks.
// Each block_id equals its element's action_id (documented in the README).

export type BlockErrors = Record<string, string>;

/** Form field → the block that shows its error (the modal's own table of block ids). */
export const FIELD_BLOCK: Record<DraftField, string> = REQUEST_FIELDS;

type StateValues = Record<
  string,
  Record<string, { type?: string; value?: string | null; selected_option?: { value: string } | null; selected_options?: { value: string }[]; selected_date_time?: number | null }>
>;

function read(values: StateValues, blockId: string): string {
  const element = values[blockId]?.[blockId];
  if (!element) return '';
  if (element.selected_date_time !== undefined) return element.selected_date_time === null ? '' : String(element.selected_date_time);
  if (element.selected_option !== undefined) return element.selected_option?.value ?? '';
  if (element.selected_options !== undefined) return element.selected_options.map((o) => o.value).join(',');
  return element.value ?? '';
}

/** Tags separated by commas or new lines; blank entries are ignored. */
export function parseTags(text: string): string[] {
  return text
    .split(/[,，\n]/)
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

/** Read the modal into a draft, applying the modal's own rules (the push rules come after). */
export function draftFromModal(
  values: StateValues,
  o: { attributeNames?: string[] | undefined } = {},
): { ok: true; draft: BroadcastDraft } | { ok: false; errors: BlockErrors } {
  const errors: BlockErrors = {};
  const message = read(values, 'message');
  if (message.trim() === '') errors.message = 'Write the message to send.';

  const audienceKind = read(values, 'audience');
  const tagsAll = parseTags(read(values, 'tags_all'));
  const tagsAny = parseTags(read(values, 'tags_any'));
  const attrsAll = parseAttributes(read(values, 'attrs_all'));
  const attrsAny = parseAttributes(read(values, 'attrs_any'));
  for (const [block, tags] of [['tags_all', tagsAll], ['tags_any', tagsAny]] as const) {
    const dup = duplicateTag(tags);
    if (dup) errors[block] = `Tag “${dup}” is listed twice; list each tag once.`;
  }
  if (attrsAll.error) errors.attrs_all = attrsAll.error;
  if (attrsAny.error) errors.attrs_any = attrsAny.error;
  // Names are checked against the app's own list when Tencent told us it; otherwise people may type any.
  const known = o.attributeNames?.length ? new Set(o.attributeNames) : undefined;
  for (const [block, parsed] of [['attrs_all', attrsAll], ['attrs_any', attrsAny]] as const) {
    const unknown = known ? Object.keys(parsed.attrs).filter((n) => !known.has(n)) : [];
    if (unknown.length && !errors[block]) {
      errors[block] = `${unknown.map((n) => `“${n}”`).join(', ')} ${unknown.length === 1 ? 'is not an attribute name' : 'are not attribute names'} of this app. Known names: ${[...known!].join(', ')}.`;
    }
  }

  const hasTags = tagsAll.length + tagsAny.length > 0;
  const hasAttrs = Object.keys(attrsAll.attrs).length + Object.keys(attrsAny.attrs).length > 0;
  const clearTags = (why: string) => {
    if (tagsAll.length) errors.tags_all ??= why;
    if (tagsAny.length) errors.tags_any ??= why;
  };
  const clearAttrs = (why: string) => {
    if (Object.keys(attrsAll.attrs).length) errors.attrs_all ??= why;
    if (Object.keys(attrsAny.attrs).length) errors.attrs_any ??= why;
  };

  let audience: Audience | undefined;
  if (audienceKind === 'all') {
    clearTags('You chose Everyone: clear the tags, or choose “Users with tags”.');
    clearAttrs('You chose Everyone: clear the attributes, or choose “Users with attributes”.');
    audience = { kind: 'all' };
  } else if (audienceKind === 'tags') {
    if (!hasTags) errors.tags_all ??= 'Enter at least one tag (here or under ANY), or choose another audience.';
    clearAttrs('Tags and attributes cannot be combined in one push (Tencent error 90039): clear the attributes.');
    audience = { kind: 'tags', all: tagsAll, any: tagsAny };
  } else if (audienceKind === 'attributes') {
    if (!hasAttrs && !attrsAll.error && !attrsAny.error) errors.attrs_all ??= 'Enter at least one name=value (here or under ANY), or choose another audience.';
    clearTags('Tags and attributes cannot be combined in one push (Tencent error 90039): clear the tags.');
    audience = { kind: 'attributes', all: attrsAll.attrs, any: attrsAny.attrs };
  } else {
    errors.audience = 'Choose who receives the push.';
  }

  const lifetimeText = read(values, 'lifetime') || '0';
  const lifetimeSeconds = Number(lifetimeText);
  if (!Number.isInteger(lifetimeSeconds)) errors.lifetime = 'Choose how long the message is kept for offline users.';

  if (Object.keys(errors).length || !audience) return { ok: false, errors };

  const offlinePush: OfflinePushDraft = {};
  const set = (key: keyof OfflinePushDraft, block: string) => {
    const v = read(values, block).trim();
    if (v) (offlinePush as Record<string, unknown>)[key] = v;
  };
  set('title', 'push_title');
  set('desc', 'push_desc');
  set('ext', 'push_ext');
  set('apnsSound', 'apns_sound');
  set('androidSound', 'android_sound');
  set('apnsImage', 'apns_image');
  if (read(values, 'badge_mode').split(',').includes('1')) offlinePush.apnsBadgeMode = 1;

  const sendAtText = read(values, 'send_at').trim();
  const sendAt = /^\d+$/.test(sendAtText) ? new Date(Number(sendAtText) * 1000).toISOString() : undefined;
  const sender = read(values, 'sender').trim();
  const note = read(values, 'note').trim();
  const draft: BroadcastDraft = {
    message,
    audience,
    lifetimeSeconds,
    ...(sender ? { sender } : {}),
    ...(Object.keys(offlinePush).length ? { offlinePush } : {}),
    ...(note ? { note } : {}),
    ...(sendAt ? { sendAt } : {}),
  };
  return { ok: true, draft };
}

/** Push-rule errors of the domain, keyed to the blocks where the person typed the value. */
export function blockErrors(errors: FieldError[]): BlockErrors {
  const out: BlockErrors = {};
  for (const e of errors) {
    const block = FIELD_BLOCK[e.field];
    out[block] = out[block] ? `${out[block]} ${e.message}` : e.message;
  }
  // Slack shows at most 2000 characters of hint; keep messages readable.
  for (const k of Object.keys(out)) if ((out[k] ?? '').length > 1900) out[k] = `${out[k]!.slice(0, 1900)}…`;
  return out;
}
