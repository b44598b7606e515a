/**
 * The Block Kit and message-metadata rules the fake Slack enforces, with Slack's documented limits
 * (docs.slack.dev/reference/block-kit: blocks, block elements, composition objects; metadata).
 * Problems are reported like Slack's `response_metadata.messages`: `[ERROR] <what> [json-pointer:<where>]`.
 *
 * Only limits Slack documents are checked; anything not covered here is accepted.
 */

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Block types Slack accepts in messages, modals or Home tabs. */
const BLOCK_TYPES = new Set(['actions', 'context', 'divider', 'file', 'header', 'image', 'input', 'markdown', 'rich_text', 'section', 'video', 'table', 'call']);

/** Options limits per element type (docs: each element's `options` field). */
const OPTION_LIMITS: Record<string, { min: number; max: number; mrkdwn: boolean }> = {
  static_select: { min: 1, max: 100, mrkdwn: false },
  multi_static_select: { min: 1, max: 100, mrkdwn: false },
  overflow: { min: 1, max: 5, mrkdwn: false },
  radio_buttons: { min: 1, max: 10, mrkdwn: true },
  checkboxes: { min: 1, max: 10, mrkdwn: true },
};

class Problems {
  readonly list: string[] = [];
  add(message: string, pointer: string): void {
    this.list.push(`[ERROR] ${message} [json-pointer:${pointer}]`);
  }
  maxLength(value: unknown, max: number, pointer: string): void {
    if (typeof value === 'string' && value.length > max) this.add(`must be less than ${max + 1} characters`, pointer);
  }
  string(v: unknown, pointer: string, o: { max: number; min?: number; required?: boolean }): void {
    if (v === undefined || v === null) {
      if (o.required) this.add(`missing required field: ${pointer.split('/').at(-1)}`, pointer);
      return;
    }
    if (typeof v !== 'string') return this.add('must be a string', pointer);
    if (o.min !== undefined && v.length < o.min) this.add(`must be more than ${o.min - 1} characters`, pointer);
    this.maxLength(v, o.max, pointer);
  }
  /** A text composition object `{type: plain_text|mrkdwn, text}`. */
  text(v: unknown, pointer: string, o: { max: number; plainOnly?: boolean; required?: boolean }): void {
    if (v === undefined || v === null) {
      if (o.required) this.add(`missing required field: ${pointer.split('/').at(-1)}`, pointer);
      return;
    }
    if (!isObject(v)) return this.add('must provide an object', pointer);
    const type = v['type'];
    if (o.plainOnly) {
      if (type !== 'plain_text') return this.add('must be a plain_text text object', `${pointer}/type`);
    } else if (type !== 'plain_text' && type !== 'mrkdwn') {
      return this.add('must be one of: plain_text, mrkdwn', `${pointer}/type`);
    }
    this.string(v['text'], `${pointer}/text`, { min: 1, max: o.max, required: true });
  }
  array(v: unknown, pointer: string, o: { min?: number; max: number; required?: boolean }): unknown[] {
    if (v === undefined || v === null) {
      if (o.required) this.add(`missing required field: ${pointer.split('/').at(-1)}`, pointer);
      return [];
    }
    if (!Array.isArray(v)) {
      this.add('must provide an array', pointer);
      return [];
    }
    if (o.min !== undefined && v.length < o.min) this.add(`must provide at least ${o.min} items`, pointer);
    if (v.length > o.max) this.add(`no more than ${o.max} items allowed`, pointer);
    return v;
  }
}

function confirm(p: Problems, v: unknown, pointer: string): void {
  if (v === undefined) return;
  if (!isObject(v)) return p.add('must provide an object', pointer);
  p.text(v['title'], `${pointer}/title`, { max: 100, plainOnly: true, required: true });
  p.text(v['text'], `${pointer}/text`, { max: 300, required: true });
  p.text(v['confirm'], `${pointer}/confirm`, { max: 30, plainOnly: true, required: true });
  p.text(v['deny'], `${pointer}/deny`, { max: 30, plainOnly: true, required: true });
  if (v['style'] !== undefined && v['style'] !== 'primary' && v['style'] !== 'danger') p.add('must be one of: primary, danger', `${pointer}/style`);
}

function option(p: Problems, v: unknown, pointer: string, mrkdwn: boolean): void {
  if (!isObject(v)) return p.add('must provide an object', pointer);
  p.text(v['text'], `${pointer}/text`, { max: 75, plainOnly: !mrkdwn, required: true });
  p.string(v['value'], `${pointer}/value`, { max: 150, required: true });
  p.text(v['description'], `${pointer}/description`, { max: 75, plainOnly: !mrkdwn });
  p.string(v['url'], `${pointer}/url`, { max: 3000 });
}

function element(p: Problems, v: unknown, pointer: string): void {
  if (!isObject(v)) return p.add('must provide an object', pointer);
  const type = v['type'];
  if (typeof type !== 'string') return p.add('missing required field: type', `${pointer}/type`);
  p.string(v['action_id'], `${pointer}/action_id`, { max: 255 });
  confirm(p, v['confirm'], `${pointer}/confirm`);
  p.text(v['placeholder'], `${pointer}/placeholder`, { max: 150, plainOnly: true });
  if (type === 'button') {
    p.text(v['text'], `${pointer}/text`, { max: 75, plainOnly: true, required: true });
    p.string(v['value'], `${pointer}/value`, { max: 2000 });
    p.string(v['url'], `${pointer}/url`, { max: 3000 });
    p.string(v['accessibility_label'], `${pointer}/accessibility_label`, { max: 75 });
    if (v['style'] !== undefined && v['style'] !== 'primary' && v['style'] !== 'danger') p.add('must be one of: primary, danger', `${pointer}/style`);
  } else if (type === 'image') {
    p.string(v['alt_text'], `${pointer}/alt_text`, { max: 2000, required: true });
    p.string(v['image_url'], `${pointer}/image_url`, { max: 3000 });
  } else if (type === 'plain_text_input') {
    for (const k of ['min_length', 'max_length'] as const) {
      const n = v[k];
      if (n !== undefined && (typeof n !== 'number' || n < 0 || n > 3000)) p.add('must be a number between 0 and 3000', `${pointer}/${k}`);
    }
  }
  const limits = OPTION_LIMITS[type];
  if (limits && v['options'] !== undefined) {
    p.array(v['options'], `${pointer}/options`, { min: limits.min, max: limits.max }).forEach((o, i) =>
      option(p, o, `${pointer}/options/${i}`, limits.mrkdwn),
    );
  }
}

function block(p: Problems, b: unknown, pointer: string, seenIds: Set<string>): void {
  if (!isObject(b) || typeof b['type'] !== 'string') return p.add('block must have a type', pointer);
  const type = b['type'];
  if (!BLOCK_TYPES.has(type)) return p.add(`unsupported block type: ${type}`, `${pointer}/type`);
  const id = b['block_id'];
  if (id !== undefined) {
    p.string(id, `${pointer}/block_id`, { max: 255 });
    if (typeof id === 'string') {
      if (seenIds.has(id)) p.add(`duplicate block_id ${id}`, `${pointer}/block_id`);
      seenIds.add(id);
    }
  }
  switch (type) {
    case 'section': {
      if (b['text'] === undefined && b['fields'] === undefined) p.add('must provide either text or fields', pointer);
      p.text(b['text'], `${pointer}/text`, { max: 3000 });
      p.array(b['fields'], `${pointer}/fields`, { min: 1, max: 10 }).forEach((f, i) => p.text(f, `${pointer}/fields/${i}`, { max: 2000, required: true }));
      if (b['accessory'] !== undefined) element(p, b['accessory'], `${pointer}/accessory`);
      break;
    }
    case 'header':
      p.text(b['text'], `${pointer}/text`, { max: 150, plainOnly: true, required: true });
      break;
    case 'context':
      p.array(b['elements'], `${pointer}/elements`, { min: 1, max: 10, required: true }).forEach((e, i) => {
        if (isObject(e) && e['type'] === 'image') element(p, e, `${pointer}/elements/${i}`);
        else p.text(e, `${pointer}/elements/${i}`, { max: Number.MAX_SAFE_INTEGER, required: true });
      });
      break;
    case 'actions':
      p.array(b['elements'], `${pointer}/elements`, { min: 1, max: 25, required: true }).forEach((e, i) => element(p, e, `${pointer}/elements/${i}`));
      break;
    case 'image':
      p.string(b['alt_text'], `${pointer}/alt_text`, { max: 2000, required: true });
      p.string(b['image_url'], `${pointer}/image_url`, { max: 3000 });
      p.text(b['title'], `${pointer}/title`, { max: 2000, plainOnly: true });
      break;
    case 'input':
      p.text(b['label'], `${pointer}/label`, { max: 2000, plainOnly: true, required: true });
      p.text(b['hint'], `${pointer}/hint`, { max: 2000, plainOnly: true });
      if (b['element'] === undefined) p.add('missing required field: element', `${pointer}/element`);
      else element(p, b['element'], `${pointer}/element`);
      break;
    case 'markdown':
      p.string(b['text'], `${pointer}/text`, { max: 12000, min: 1, required: true });
      break;
    default:
      break;
  }
}

/**
 * Problems with a `blocks` array (empty when valid). `pointer` is where the array sits in the request
 * (`/blocks` for messages, `/view/blocks` for views); `maxBlocks` is 50 for messages, 100 for views.
 */
export function blockProblems(blocks: unknown[], pointer: string, maxBlocks: number): string[] {
  const p = new Problems();
  if (blocks.length > maxBlocks) p.add(`no more than ${maxBlocks} items allowed`, pointer);
  const seen = new Set<string>();
  blocks.forEach((b, i) => block(p, b, `${pointer}/${i}`, seen));
  return p.list;
}

/** Slack's limit on a message's top-level `text` (longer ones answer `msg_too_long`). */
export const MAX_MESSAGE_TEXT = 40_000;

const isScalar = (v: unknown): boolean => typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));

/**
 * Whether `metadata` is a valid message metadata object: `event_type` a non-empty string and `event_payload` an
 * object whose values are scalars, objects of scalars, or arrays of scalars / objects of scalars (one level deep,
 * as @slack/types' MessageMetadata allows). A string here means the JSON did not parse.
 */
export function metadataIsValid(metadata: unknown): boolean {
  if (!isObject(metadata)) return false;
  const type = metadata['event_type'];
  const payload = metadata['event_payload'];
  if (typeof type !== 'string' || type.length === 0 || !isObject(payload)) return false;
  const flatObject = (v: unknown): boolean => isObject(v) && Object.values(v).every(isScalar);
  return Object.values(payload).every(
    (v) => isScalar(v) || flatObject(v) || (Array.isArray(v) && v.every((item) => isScalar(item) || flatObject(item))),
  );
}
