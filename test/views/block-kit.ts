// An independent checker of Slack's Block Kit limits, applied to every rendered view in the tests.
// Limits from /work/shared/reference/slack-bolt-notes.md §3 (docs.slack.dev and @slack/types JSDoc);
// written apart from views/blocks.ts on purpose, so a wrong constant there cannot hide here.

type Json = Record<string, any>;

const L = {
  messageBlocks: 50,
  viewBlocks: 100,
  text: 3000,
  header: 150,
  field: 2000,
  fields: 10,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  actionId: 255,
  blockId: 255,
  a11y: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  label: 2000,
  hint: 2000,
  placeholder: 150,
  inputMax: 3000,
  optionText: 75,
  optionValue: 150,
  radioOptions: 10,
  selectOptions: 100,
  modalTitle: 24,
  privateMetadata: 3000,
  /** msg_blocks_too_long appears near 13,200 characters in all (bolt-js#2509). */
  aggregate: 13_200,
  messageText: 40_000,
} as const;

const BLOCK_TYPES = new Set(['section', 'context', 'header', 'divider', 'actions', 'input', 'rich_text', 'image']);

function textObject(o: unknown, where: string, max: number, problems: string[], kinds = ['plain_text', 'mrkdwn']): void {
  const t = o as Json | undefined;
  if (!t || typeof t !== 'object') return void problems.push(`${where}: missing text object`);
  if (!kinds.includes(t.type)) problems.push(`${where}: text type ${t.type} not one of ${kinds.join('/')}`);
  if (typeof t.text !== 'string' || t.text.trim() === '') problems.push(`${where}: empty text`);
  else if (t.text.length > max) problems.push(`${where}: ${t.text.length} > ${max} characters`);
}

function confirm(c: Json, where: string, problems: string[]): void {
  textObject(c.title, `${where}.confirm.title`, L.confirmTitle, problems, ['plain_text']);
  textObject(c.text, `${where}.confirm.text`, L.confirmText, problems);
  textObject(c.confirm, `${where}.confirm.confirm`, L.confirmButton, problems, ['plain_text']);
  textObject(c.deny, `${where}.confirm.deny`, L.confirmButton, problems, ['plain_text']);
}

function options(opts: unknown, where: string, max: number, problems: string[]): void {
  if (!Array.isArray(opts) || opts.length === 0) return void problems.push(`${where}: no options`);
  if (opts.length > max) problems.push(`${where}: ${opts.length} > ${max} options`);
  opts.forEach((o: Json, i) => {
    textObject(o.text, `${where}.options[${i}]`, L.optionText, problems, ['plain_text', 'mrkdwn']);
    if (typeof o.value !== 'string' || o.value.length > L.optionValue) problems.push(`${where}.options[${i}]: bad value`);
  });
}

function element(e: Json, where: string, problems: string[], inputBlockId?: string): void {
  if (typeof e.action_id === 'string' && e.action_id.length > L.actionId) problems.push(`${where}: action_id too long`);
  switch (e.type) {
    case 'button':
      textObject(e.text, `${where}.text`, L.buttonText, problems, ['plain_text']);
      if (typeof e.value === 'string' && e.value.length > L.buttonValue) problems.push(`${where}: value > ${L.buttonValue}`);
      // Our rule: every button says what it does to a screen reader.
      if (typeof e.accessibility_label !== 'string' || !e.accessibility_label.trim()) problems.push(`${where}: no accessibility_label`);
      else if (e.accessibility_label.length > L.a11y) problems.push(`${where}: accessibility_label > ${L.a11y}`);
      if (e.confirm) confirm(e.confirm, where, problems);
      break;
    case 'plain_text_input':
      if (e.max_length !== undefined && (e.max_length < 1 || e.max_length > L.inputMax)) problems.push(`${where}: max_length ${e.max_length}`);
      if (typeof e.initial_value === 'string' && e.max_length && e.initial_value.length > e.max_length) problems.push(`${where}: initial_value longer than max_length`);
      if (e.placeholder) textObject(e.placeholder, `${where}.placeholder`, L.placeholder, problems, ['plain_text']);
      break;
    case 'radio_buttons':
    case 'checkboxes':
      options(e.options, where, L.radioOptions, problems);
      break;
    case 'static_select':
      options(e.options, where, L.selectOptions, problems);
      if (e.initial_option && !e.options.some((o: Json) => o.value === e.initial_option.value)) problems.push(`${where}: initial_option not among options`);
      break;
    case 'datetimepicker':
      break;
    default:
      problems.push(`${where}: unexpected element ${e.type}`);
  }
  // Our rule: an input's block_id equals its element's action_id (errors and state use one name).
  if (inputBlockId !== undefined && e.action_id !== inputBlockId) problems.push(`${where}: action_id ${e.action_id} ≠ block_id ${inputBlockId}`);
}

function richText(b: Json, where: string, problems: string[]): void {
  if (!Array.isArray(b.elements) || !b.elements.length) return void problems.push(`${where}: empty rich_text`);
  for (const [i, part] of (b.elements as Json[]).entries()) {
    if (!['rich_text_section', 'rich_text_preformatted', 'rich_text_quote', 'rich_text_list'].includes(part.type)) problems.push(`${where}[${i}]: ${part.type}`);
    if (!Array.isArray(part.elements) || !part.elements.length) problems.push(`${where}[${i}]: no elements`);
    for (const t of part.elements ?? []) if (t.type === 'text' && (typeof t.text !== 'string' || t.text === '')) problems.push(`${where}[${i}]: empty text element`);
  }
}

/** Every problem of `blocks` on a surface with at most `maxBlocks` blocks. */
export function blockProblems(blocks: unknown, maxBlocks: number): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks is not an array'];
  if (blocks.length > maxBlocks) problems.push(`${blocks.length} > ${maxBlocks} blocks`);
  const ids = new Set<string>();
  blocks.forEach((b: Json, i) => {
    const where = `blocks[${i}](${b?.type})`;
    if (!BLOCK_TYPES.has(b?.type)) return void problems.push(`${where}: unknown block type`);
    if (typeof b.block_id === 'string') {
      if (b.block_id.length > L.blockId) problems.push(`${where}: block_id too long`);
      if (ids.has(b.block_id)) problems.push(`${where}: duplicate block_id ${b.block_id}`);
      ids.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        textObject(b.text, where, L.header, problems, ['plain_text']);
        break;
      case 'section':
        if (!b.text && !b.fields) problems.push(`${where}: neither text nor fields`);
        if (b.text) textObject(b.text, where, L.text, problems);
        if (b.fields) {
          if (b.fields.length > L.fields) problems.push(`${where}: > ${L.fields} fields`);
          b.fields.forEach((f: Json, j: number) => textObject(f, `${where}.fields[${j}]`, L.field, problems));
        }
        if (b.accessory) element(b.accessory, `${where}.accessory`, problems);
        break;
      case 'context':
        if (!Array.isArray(b.elements) || !b.elements.length || b.elements.length > L.contextElements) problems.push(`${where}: 1..${L.contextElements} elements`);
        for (const [j, e] of (b.elements ?? []).entries()) textObject(e, `${where}.elements[${j}]`, L.text, problems);
        break;
      case 'actions':
        if (!Array.isArray(b.elements) || !b.elements.length || b.elements.length > L.actionsElements) problems.push(`${where}: 1..${L.actionsElements} elements`);
        for (const [j, e] of (b.elements ?? []).entries()) element(e, `${where}.elements[${j}]`, problems);
        break;
      case 'input':
        textObject(b.label, `${where}.label`, L.label, problems, ['plain_text']);
        if (b.hint) textObject(b.hint, `${where}.hint`, L.hint, problems, ['plain_text']);
        element(b.element, `${where}.element`, problems, b.block_id);
        break;
      case 'rich_text':
        richText(b, where, problems);
        break;
    }
  });
  const total = textLength(blocks);
  if (total > L.aggregate) problems.push(`${total} characters of text in all > ${L.aggregate} (msg_blocks_too_long)`);
  return problems;
}

function textLength(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + textLength(x), 0);
  if (!node || typeof node !== 'object') return 0;
  return Object.entries(node).reduce((n, [k, v]) => n + (k === 'text' && typeof v === 'string' ? v.length : typeof v === 'object' ? textLength(v) : 0), 0);
}

/** A chat message: blocks, a meaningful plain fallback, and (when given) scalar, secret-free metadata. */
export function messageProblems(m: { text: string; blocks: unknown; metadata?: { event_type: string; event_payload: Record<string, unknown> } }): string[] {
  const problems = blockProblems(m.blocks, L.messageBlocks);
  if (typeof m.text !== 'string' || m.text.trim().length < 20) problems.push(`fallback text too short to mean anything: ${JSON.stringify(m.text)}`);
  else {
    if (m.text.length > L.messageText) problems.push('fallback text too long');
    // App markup does not belong in a notification: no bold, code spans, links or raw dates.
    // (What a person typed is quoted “…” and kept as typed, escaped.)
    const own = m.text.replace(/“[^”]*”/g, '“…”');
    if (/(^|\s)\*[^*\s][^*]*\*(\s|$|[.,:;])|`|<https?:|<!date\^/.test(own)) problems.push(`fallback has raw mrkdwn: ${m.text}`);
  }
  if (m.metadata) {
    if (typeof m.metadata.event_type !== 'string' || !m.metadata.event_type) problems.push('metadata without event_type');
    for (const [k, v] of Object.entries(m.metadata.event_payload ?? {})) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) problems.push(`metadata ${k} is not a scalar`);
      if (typeof v === 'string' && /xox[abp]-|secret|usersig|token/i.test(v)) problems.push(`metadata ${k} looks like a secret`);
    }
  }
  return problems;
}

/** A modal or Home view. */
export function viewProblems(v: Json): string[] {
  const problems = blockProblems(v.blocks, L.viewBlocks);
  if (v.type === 'modal') {
    for (const k of ['title', 'submit', 'close'] as const) if (v[k]) textObject(v[k], k, L.modalTitle, problems, ['plain_text']);
    if (typeof v.private_metadata === 'string' && v.private_metadata.length > L.privateMetadata) problems.push('private_metadata > 3000');
    if (typeof v.callback_id === 'string' && v.callback_id.length > 255) problems.push('callback_id > 255');
  }
  return problems;
}
