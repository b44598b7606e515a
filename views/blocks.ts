// Small Block Kit builders shared by the views, and Slack's limits that the views rely on
// (/work/shared/reference/slack-bolt-notes.md §3).

import type { Button, KnownBlock, MrkdwnElement, PlainTextElement, RichTextBlock, RichTextText } from '@slack/types';
import { SANDBOX_BANNER } from './context.js';
import { truncate } from './format.js';

export const SLACK_LIMITS = {
  sectionText: 3000,
  header: 150,
  messageBlocks: 50,
  viewBlocks: 100,
  buttonText: 75,
  buttonValue: 2000,
  accessibilityLabel: 75,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  contextElements: 10,
  fieldText: 2000,
  /**
   * Slack refuses a message whose blocks hold more than about 13,200 characters in all
   * (`msg_blocks_too_long`, below the per-block limits: bolt-js issue 2509). The views keep every
   * message under this budget, and the form refuses a request whose card or thread would not fit.
   */
  messageTextBudget: 12_000,
} as const;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

export const mdText = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });
/**
 * Plain text shown literally. `emoji: false` only matters where the text holds something Slack would
 * read as an emoji name (":word:"); elsewhere it is left out, which keeps big views (the form) small.
 */
export const plainText = (text: string, emoji = false): PlainTextElement =>
  emoji || EMOJI_NAME.test(text) ? { type: 'plain_text', text, emoji } : { type: 'plain_text', text };

const EMOJI_NAME = /:[a-z0-9_+'-]+:/i;

/** A mrkdwn section; app text only (user text is escaped by the caller or goes in `plainSection`/`richText`). */
export const section = (text: string): KnownBlock => ({ type: 'section', text: mdText(truncate(text, SLACK_LIMITS.sectionText)) });

/** A plain-text section: shown exactly as typed, no formatting, no mentions, no emoji codes. */
export const plainSection = (text: string): KnownBlock => ({ type: 'section', text: plainText(text) });

export const context = (...texts: string[]): KnownBlock => ({
  type: 'context',
  elements: texts.slice(0, SLACK_LIMITS.contextElements).map((t) => mdText(truncate(t, SLACK_LIMITS.sectionText))),
});

/** The sandbox banner, first on every message and on the Home tab when TIM_REGION=sandbox. */
export const sandboxBlock = (): KnownBlock => context(`*${SANDBOX_BANNER}.* Pushes go to the emulator inside the app.`);

/** "Label: value" lines with the value as literal text (rich text never interprets markup), for what people typed. */
export function labelled(rows: ReadonlyArray<readonly [label: string, value: string]>): RichTextBlock {
  const elements: RichTextText[] = [];
  rows.forEach(([label, value], i) => {
    elements.push({ type: 'text', text: `${i ? '\n' : ''}${label}: `, style: { bold: true } });
    elements.push({ type: 'text', text: value || '(empty)' });
  });
  return { type: 'rich_text', elements: [{ type: 'rich_text_section', elements }] };
}

/** Text as one preformatted block (the exact push body). */
export function preformatted(text: string): RichTextBlock {
  return { type: 'rich_text', elements: [{ type: 'rich_text_preformatted', elements: [{ type: 'text', text }] }] };
}

/**
 * User text in plain_text sections, in full, split at Slack's 3000-character section limit
 * (at a line break when there is one in the second half, never inside a surrogate pair).
 */
export function plainChunks(text: string, max: number = SLACK_LIMITS.sectionText): string[] {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > max) {
    // After a line break in the second half when there is one, so each part reads as whole lines.
    let cut = rest.lastIndexOf('\n', max - 1) + 1;
    if (cut < max / 2) cut = max;
    const unit = rest.charCodeAt(cut - 1);
    if (unit >= 0xd800 && unit <= 0xdbff) cut--;
    chunks.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
  if (rest.length || !chunks.length) chunks.push(rest);
  // Slack refuses an empty or whitespace-only text object.
  return chunks.map((c) => (c.trim() ? c : ' '));
}

export function button(o: {
  actionId: string;
  text: string;
  value: string;
  label: string;
  style?: 'primary' | 'danger';
  confirm?: Button['confirm'];
}): Button {
  const b: Button = {
    type: 'button',
    action_id: o.actionId,
    text: plainText(truncate(o.text, SLACK_LIMITS.buttonText), true),
    value: o.value,
    accessibility_label: truncate(o.label, SLACK_LIMITS.accessibilityLabel),
  };
  if (o.style) b.style = o.style;
  if (o.confirm) b.confirm = o.confirm;
  return b;
}

export function confirmDialog(title: string, text: string, yes: string, no = 'Not yet', style: 'primary' | 'danger' = 'danger'): NonNullable<Button['confirm']> {
  return {
    title: plainText(truncate(title, SLACK_LIMITS.confirmTitle)),
    text: plainText(truncate(text, SLACK_LIMITS.confirmText)),
    confirm: plainText(truncate(yes, SLACK_LIMITS.confirmButton)),
    deny: plainText(truncate(no, SLACK_LIMITS.confirmButton)),
    style,
  };
}

/** Every piece of text in a message's blocks, summed: what Slack's aggregate limit counts. */
export function blocksTextLength(node: unknown): number {
  if (Array.isArray(node)) return node.reduce((n: number, x) => n + blocksTextLength(x), 0);
  if (!node || typeof node !== 'object') return 0;
  let n = 0;
  for (const [k, v] of Object.entries(node)) {
    if (k === 'text' && typeof v === 'string') n += v.length;
    else if (typeof v === 'object') n += blocksTextLength(v);
  }
  return n;
}

/**
 * A readable plain fallback from mrkdwn lines: dates as their UTC fallback, links as their label,
 * bold/italic/code marks dropped, line breaks as spaces. Escapes stay escaped, so user text can
 * never turn into a mention; mentions of people stay (Slack shows names in notifications).
 */
export function plainFallback(mrkdwn: string): string {
  return mrkdwn
    .replace(/<!date\^\d+\^[^|>]*\|([^>]*)>/g, '$1')
    .replace(/<(https?:[^|>]+)\|([^>]+)>/g, '$2')
    .replace(/<#[CGD][A-Z0-9]+\|?([^>]*)>/g, (m, name: string) => (name ? `#${name}` : m))
    .replace(/(^|[\s(\u201C"])[*_]+|[*_]+(?=[\s).,;:!?\u201D"]|$)/g, '$1')
    .replace(/`/g, '')
    .replace(/\s*\n+\s*/g, ' ')
    .trim();
}
