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

/** Truncate to at most `max` UTF-16 units (Slack counts in these units), ending with "…". For app text and Tencent's text, never for what a person typed. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  if (max === 1) return '…';
  return safeCut(text, max - 1) + '…';
}

/** Escape text that is not the user's message (Tencent's answers, reasons of the app), then cap it. */
export function escapeAndTruncate(raw: string, max: number): string {
  return truncate(escapeMrkdwn(raw), max);
}

/** Inline code span for short user text (ids, tags); falls back to quotes when the text itself contains a backtick. Never cut. */
export function code(raw: string): string {
  if (raw === '') return '“” (empty)';
  const shown = escapeMrkdwn(raw.replace(/\n/g, ' '));
  return raw.includes('`') ? `“${shown}”` : `\`${shown}\``;
}

const SLACK_USER_ID = /^[UWB][A-Z0-9]{2,}$/;
const SLACK_CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const SLACK_GROUP_ID = /^S[A-Z0-9]{2,}$/;

/** `<@U123>` for a real Slack user id; "the app" for the system; anything else escaped so it can't become markup. */
export function mention(userId: string | undefined): string {
  if (!userId) return 'someone';
  if (userId === 'system') return 'the app';
  return SLACK_USER_ID.test(userId) ? `<@${userId}>` : escapeMrkdwn(truncate(userId, 40));
}

/** `<!subteam^S123>` for a user-group id (notifies its members). */
export function groupMention(groupId: string): string {
  return SLACK_GROUP_ID.test(groupId) ? `<!subteam^${groupId}>` : escapeMrkdwn(truncate(groupId, 40));
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

/** "2026-11-27 08:30 UTC": the fallback of a Slack date, readable where Slack cannot localise it. */
export function utcWords(ms: number): string {
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;
}

/**
 * Slack date formatting: shows in each reader's own time zone, falls back to the UTC time.
 * Invalid dates are shown as the escaped raw string.
 */
export function slackDate(iso: string | undefined, format = '{date_short_pretty} {time}'): string {
  if (!iso) return 'at an unknown time';
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return escapeMrkdwn(truncate(iso, 40));
  return `<!date^${Math.floor(ms / 1000)}^${format}|${utcWords(ms)}>`;
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
  if (seconds === 0) return 'not stored: only users online at that moment receive it';
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
 * Who receives the push, in words, with every tag and attribute in full (the push rules bound
 * them to 10 of at most 50 bytes each). User text is escaped and shown as code.
 */
export function describeAudience(a: Audience): string {
  if (a.kind === 'all') return '*Everyone* — every user of the app';
  const noun = a.kind === 'tags' ? 'tags' : 'attributes';
  if (isEveryone(a)) return `*Everyone* — no ${noun} were given, so the push has no condition and reaches every user of the app`;
  const pairs = (r: Record<string, string>) => Object.entries(r).map(([k, v]) => `${k} = ${v}`);
  const all = (a.kind === 'tags' ? a.all : pairs(a.all)).map(code).join(', ');
  const any = (a.kind === 'tags' ? a.any : pairs(a.any)).map(code).join(', ');
  const users = a.kind === 'tags' ? 'users with' : 'users matching';
  if (all && any) return `${users} *all* of these ${noun}: ${all} *and* at least one of: ${any}`;
  if (all) return `${users} *all* of these ${noun}: ${all}`;
  return `${users} *any* of these ${noun}: ${any}`;
}

/** Short audience for one-line summaries (no user text). */
export function audienceShort(a: Audience): string {
  if (a.kind === 'all' || isEveryone(a)) return 'everyone';
  if (a.kind === 'tags') {
    const n = a.all.length + a.any.length;
    return `users with ${n === 1 ? '1 tag' : `${n} tags`}`;
  }
  const n = Object.keys(a.all).length + Object.keys(a.any).length;
  return `users matching ${n === 1 ? '1 attribute' : `${n} attributes`}`;
}

// Building an Intl.DateTimeFormat costs far more than using one, and this runs on every form and card.
const clockFormats = new Map<string, Intl.DateTimeFormat>();

/** "00:00" in the quota time zone: when the quota resets. */
export function resetClock(q: QuotaStatus): string {
  const ms = Date.parse(q.resetsAt);
  if (Number.isNaN(ms)) return '00:00';
  try {
    let f = clockFormats.get(q.timezone);
    if (!f) {
      f = new Intl.DateTimeFormat('en-GB', { timeZone: q.timezone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
      clockFormats.set(q.timezone, f);
    }
    return f.format(new Date(ms));
  } catch {
    return '00:00';
  }
}

const thousands = new Intl.NumberFormat('en-US');

/** 12,345 */
export function formatCount(n: number): string {
  return thousands.format(n);
}

/** Used up: our count reached the limit, or Tencent said 90047 today. */
export function quotaExhausted(q: QuotaStatus): boolean {
  return q.exhausted || q.used >= q.limit;
}

/** Pushes left today (0 once Tencent said the quota is used up, whatever our count). */
export function quotaLeft(q: QuotaStatus): number {
  return quotaExhausted(q) ? 0 : Math.max(0, q.limit - q.used);
}

/** "12 of 100 pushes used today (2026-11-27), 88 left; resets at 00:00 Asia/Shanghai". */
export function formatQuota(q: QuotaStatus): string {
  const reset = `resets at ${resetClock(q)} ${escapeMrkdwn(q.timezone)}`;
  const day = escapeMrkdwn(q.day);
  if (!quotaExhausted(q)) return `${q.used} of ${q.limit} pushes used today (${day}), ${quotaLeft(q)} left; ${reset}`;
  if (q.used < q.limit) return `today's quota is used up: Tencent refused further pushes today (${day}; ${q.used} of ${q.limit} counted here); ${reset}`;
  return `today's quota is used up: ${q.used} of ${q.limit} pushes used today (${day}); ${reset}`;
}

// Words before the emoji (screen readers say the words first), one emoji per state.
const STATE_EMOJI: Record<RequestState, string> = {
  pending: '⏳',
  approved: '📤',
  scheduled: '🗓️',
  sending: '📤',
  sent: '✅',
  failed: '❌',
  rejected: '🚫',
  expired: '⌛',
  cancelled: '🗑️',
  unknown: '❓',
  not_sent: '↩️',
};

/** The state in words alone (no emoji), for fallbacks, metadata readers and sentences. */
export const STATE_WORDS: Record<RequestState, string> = {
  pending: 'Pending approval',
  approved: 'Approved, sending',
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

/** "Pending approval ⏳": the words, then the state's one emoji. */
export function stateLabel(state: RequestState): string {
  return `${STATE_WORDS[state] ?? String(state)} ${STATE_EMOJI[state] ?? ''}`.trim();
}

/** "error 90047" / "an error without a code". */
export function errorCode(code: number | null | undefined): string {
  return code === null || code === undefined ? 'an error without a code' : `error ${code}`;
}

/** What happened (with Tencent's own words, once) and what the details of the app's record add. */
export function whatHappened(ex: Explanation, info?: string): string[] {
  const lines: string[] = [];
  if (ex.what) lines.push(`*What happened:* ${escapeAndTruncate(ex.what, 900)}`);
  // `what` already quotes Tencent's ErrorInfo when there was one; only the app's own details are added.
  if (info && !ex.what.includes(info)) lines.push(`*Details:* ${escapeAndTruncate(info, 500)}`);
  return lines;
}

/** What the operator should do: said once, in the thread. */
export function whatToDo(ex: Explanation): string[] {
  const lines: string[] = [];
  if (ex.action) lines.push(`*What to do:* ${escapeAndTruncate(ex.action, 900)}`);
  lines.push(retryAdvice(ex.retry));
  return lines;
}

/** Whether asking again can help, in plain words. */
export function retryAdvice(retry: Explanation['retry']): string {
  switch (retry) {
    case 'yes':
      return 'Trying again can help: use “Request again” on the card.';
    case 'wait':
      return 'Trying again can help later: wait as said above, then use “Request again” on the card.';
    default:
      return 'Trying again as it is will not help; fix the cause first.';
  }
}
