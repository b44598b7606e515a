// Shared, pure formatting helpers for every view.
// Nothing here does I/O or reads the clock: callers pass everything in.

import type { Audience, Explanation, QuotaStatus, RequestState } from '../src/broadcast/types.js';

/** Escape text for Slack mrkdwn so user input can't create mentions, links or broadcasts (<!channel>). */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Number of characters as people count them (code points, not UTF-16 units). */
export function charCount(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

/**
 * Cut `text` to at most `max` UTF-16 units without splitting a surrogate pair
 * and without leaving half of an HTML entity (`&am`) produced by escapeMrkdwn.
 */
export function safeCut(text: string, max: number): string {
  if (max <= 0) return '';
  if (text.length <= max) return text;
  let cut = text.slice(0, max);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  // A trailing '&' followed only by entity characters is a broken entity.
  cut = cut.replace(/&[a-zA-Z0-9#]*$/, '');
  return cut;
}

/** Truncate to at most `max` UTF-16 units (Slack's limits are conservative in these units), ending with "…". */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return '…';
  return safeCut(text, max - 1) + '…';
}

/**
 * Truncate an already-rendered preview of user text and say how long the full text is.
 * `fullChars` is the length of the ORIGINAL user text in characters.
 */
export function truncatePreview(rendered: string, max: number, fullChars: number): string {
  if (rendered.length <= max) return rendered;
  const suffix = `… (truncated; ${fullChars} characters in full)`;
  if (max <= suffix.length) return truncate(rendered, max);
  return safeCut(rendered, max - suffix.length) + suffix;
}

/** Escape user text, then truncate it to `max` with the standard truncation note. */
export function escapeAndTruncate(raw: string, max: number): string {
  return truncatePreview(escapeMrkdwn(raw), max, charCount(raw));
}

/** Inline code span for user text; falls back to quotes when the text itself contains a backtick. */
export function code(raw: string, max = 200): string {
  if (raw === '') return '“” (empty)';
  const shown = escapeAndTruncate(raw, max);
  return raw.includes('`') ? `“${shown}”` : `\`${shown}\``;
}

const SLACK_USER_ID = /^[UWB][A-Z0-9]{2,}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;

/** `<@U123>` for a real Slack user id; anything else is shown escaped so it can't become markup. */
export function mention(userId: string | undefined): string {
  if (!userId) return 'someone';
  return SLACK_USER_ID.test(userId) ? `<@${userId}>` : escapeMrkdwn(truncate(userId, 40));
}

/** `<#C123>` for a real channel id; anything else escaped. */
export function channelLink(channelId: string): string {
  return SLACK_CHANNEL_ID.test(channelId) ? `<#${channelId}>` : escapeMrkdwn(truncate(channelId, 40));
}

/** A https link `<url|label>`, or just the label when the URL is unusable in mrkdwn. */
export function link(url: string | undefined, label: string): string {
  if (url && /^https:\/\/[^\s<>|]+$/.test(url)) return `<${url}|${label}>`;
  return label;
}

/**
 * Slack date formatting: shows in each reader's own time zone, falls back to the ISO time.
 * Invalid dates are shown as the escaped raw string.
 */
export function slackDate(iso: string | undefined, format = '{date_short_pretty} {time}'): string {
  if (!iso) return 'unknown time';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(truncate(iso, 40));
  return `<!date^${Math.floor(ms / 1000)}^${format}|${new Date(ms).toISOString()}>`;
}

/** "2 h 30 min", "1 d 3 h", "45 s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  let s = Math.round(seconds);
  if (s === 0) return '0 s';
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const parts: string[] = [];
  if (d) parts.push(`${d} d`);
  if (h) parts.push(`${h} h`);
  if (m) parts.push(`${m} min`);
  if (s && !d) parts.push(`${s} s`);
  return parts.join(' ') || '0 s';
}

/** How long Tencent keeps the push for offline users (MsgLifeTime). */
export function formatLifetime(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0 || !Number.isInteger(seconds)) {
    return `invalid (${String(seconds)} s)`;
  }
  if (seconds === 0) return 'not stored: online users only';
  if (seconds % 86400 === 0) {
    const d = seconds / 86400;
    return d === 1 ? '1 day' : `${d} days`;
  }
  if (seconds % 3600 === 0) {
    const h = seconds / 3600;
    return h === 1 ? '1 hour' : `${h} hours`;
  }
  return formatDuration(seconds);
}

const MAX_AUDIENCE_ITEMS = 20;

function list(items: string[], style: 'mrkdwn' | 'plain'): string {
  const shown = items.slice(0, MAX_AUDIENCE_ITEMS);
  const rendered = shown.map((t) => (style === 'plain' ? `"${truncate(t, 100)}"` : code(t, 100)));
  const more = items.length - shown.length;
  return rendered.join(', ') + (more > 0 ? ` and ${more} more` : '');
}

/**
 * True when the audience puts no condition on the push, i.e. it reaches EVERY user.
 * An audience of kind tags/attributes with no entries is exactly that (Tencent: no Condition = all users).
 */
export function isEveryone(a: Audience): boolean {
  if (a.kind === 'all') return true;
  if (a.kind === 'tags') return a.all.length === 0 && a.any.length === 0;
  return Object.keys(a.all).length === 0 && Object.keys(a.any).length === 0;
}

/**
 * Who receives the push, in words. `mrkdwn` (default) escapes user text and uses code spans;
 * `plain` is for plain_text objects (confirm dialogs).
 */
export function describeAudience(a: Audience, style: 'mrkdwn' | 'plain' = 'mrkdwn'): string {
  const bold = (s: string) => (style === 'mrkdwn' ? `*${s}*` : s);
  if (a.kind === 'all') return bold('EVERYONE — every user of the app');
  const noun = a.kind === 'tags' ? 'tags' : 'attributes';
  if (isEveryone(a)) {
    return `${bold('EVERYONE')} — no ${noun} were given, so the push has no condition and reaches every user of the app`;
  }
  const pairs = (r: Record<string, string>) => Object.entries(r).map(([k, v]) => `${k} = ${v}`);
  const all = a.kind === 'tags' ? a.all : pairs(a.all);
  const any = a.kind === 'tags' ? a.any : pairs(a.any);
  const users = a.kind === 'tags' ? 'users with' : 'users matching';
  if (all.length && any.length) {
    return `${users} ALL of these ${noun}: ${list(all, style)} AND at least one of: ${list(any, style)}`;
  }
  if (all.length) return `${users} ALL of these ${noun}: ${list(all, style)}`;
  return `${users} ANY of these ${noun}: ${list(any, style)}`;
}

/** Short audience for one-line summaries (no user text). */
export function audienceShort(a: Audience): string {
  if (a.kind === 'all' || isEveryone(a)) return 'EVERYONE';
  if (a.kind === 'tags') {
    const n = a.all.length + a.any.length;
    return `users with ${n === 1 ? '1 tag' : `${n} tags`}`;
  }
  const n = Object.keys(a.all).length + Object.keys(a.any).length;
  return `users matching ${n === 1 ? '1 attribute' : `${n} attributes`}`;
}

function resetTime(q: QuotaStatus): string {
  const ms = Date.parse(q.resetsAt);
  if (Number.isNaN(ms)) return '00:00';
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: q.timezone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(new Date(ms));
  } catch {
    return '00:00';
  }
}

export function quotaExhausted(q: QuotaStatus): boolean {
  return q.exhausted || q.used >= q.limit;
}

/** "12 of 100 pushes used today (2026-11-27); resets 00:00 Asia/Shanghai". */
export function formatQuota(q: QuotaStatus): string {
  const reset = `resets ${resetTime(q)} ${escapeMrkdwn(q.timezone)}`;
  const day = escapeMrkdwn(q.day);
  if (!quotaExhausted(q)) return `${q.used} of ${q.limit} pushes used today (${day}); ${reset}`;
  if (q.used < q.limit) {
    return `daily quota used up (Tencent refused further pushes today; ${q.used} of ${q.limit} counted here, ${day}); ${reset}`;
  }
  return `daily quota used up: ${q.used} of ${q.limit} pushes used today (${day}); ${reset}`;
}

// Words before the emoji (screen readers say the words first), one emoji per state.
const STATE_LABELS: Record<RequestState, string> = {
  pending: 'Pending approval ⏳',
  approved: 'Approved, sending 📤',
  scheduled: 'Scheduled 🗓️',
  sending: 'Sending 📤',
  sent: 'Sent ✅',
  failed: 'Failed ❌',
  rejected: 'Rejected 🚫',
  expired: 'Expired ⌛',
  cancelled: 'Cancelled 🗑️',
  unknown: 'Outcome unknown ❓',
  not_sent: 'Did not go out ↩️',
};

/** The state in words alone (no emoji), e.g. for headers and fallbacks. */
export const STATE_WORDS: Record<RequestState, string> = {
  pending: 'Pending',
  approved: 'Approved',
  scheduled: 'Scheduled',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Failed',
  rejected: 'Rejected',
  expired: 'Expired',
  cancelled: 'Cancelled',
  unknown: 'Outcome unknown',
  not_sent: 'Did not go out',
};

export function stateLabel(state: RequestState): string {
  return STATE_LABELS[state] ?? String(state);
}

/** The MsgRandom of the exact body that will be (or was) pushed, if recorded. */
export function msgRandomOf(body: unknown): string | undefined {
  if (body && typeof body === 'object' && 'MsgRandom' in body) {
    const v = (body as { MsgRandom: unknown }).MsgRandom;
    if (typeof v === 'number' || typeof v === 'string') return String(v);
  }
  return undefined;
}

/**
 * True when the im_push body itself has no (or an empty) Condition, i.e. Tencent would push to EVERY user.
 * Undefined when there is no body to inspect.
 */
export function bodyReachesEveryone(body: unknown): boolean | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const cond = (body as { Condition?: unknown }).Condition;
  if (cond === undefined || cond === null) return true;
  if (typeof cond !== 'object') return false;
  return Object.values(cond as Record<string, unknown>).every((v) => {
    if (Array.isArray(v)) return v.length === 0;
    if (v && typeof v === 'object') return Object.keys(v).length === 0;
    return v === undefined || v === null;
  });
}

/** "error 90047" / "an error without a code". */
export function errorCode(code: number | null | undefined): string {
  return code === null || code === undefined ? 'an error without a code' : `error ${code}`;
}

/** Whether asking again can help, in plain words. */
export function retryAdvice(retry: Explanation['retry']): string {
  switch (retry) {
    case 'yes':
      return 'Trying again can help: request the broadcast again.';
    case 'wait':
      return 'Trying again can help later: wait (see above), then request the broadcast again.';
    default:
      return 'Trying again as-is will not help; fix the cause first.';
  }
}

/** "*What happened:* …" and "*What to do:* …" lines, escaped and capped. */
export function explanationLines(ex: Explanation, max = 500): string[] {
  const lines: string[] = [];
  if (ex.what) lines.push(`*What happened:* ${escapeAndTruncate(ex.what, max)}`);
  if (ex.action) lines.push(`*What to do:* ${escapeAndTruncate(ex.action, max)}`);
  return lines;
}
