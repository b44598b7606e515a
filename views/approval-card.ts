// The approval card posted in the approvals channel. It is the audit record of a request,
// so it renders every state; only a pending request gets Approve / Reject buttons.

import type { ActionsBlock, KnownBlock, MrkdwnElement, SectionBlock } from '@slack/types';
import type { BroadcastRequest, OfflinePushDraft, QuotaStatus, RequestState } from '../src/broadcast/types.js';
import {
  audienceShort,
  bodyReachesEveryone,
  charCount,
  code,
  describeAudience,
  errorCode,
  escapeAndTruncate,
  escapeMrkdwn,
  explanationLines,
  formatDuration,
  formatLifetime,
  formatQuota,
  isEveryone,
  mention,
  msgRandomOf,
  quotaExhausted,
  retryAdvice,
  safeCut,
  slackDate,
  stateLabel,
  truncate,
  truncatePreview,
} from './format.js';

export const APPROVE_ACTION_ID = 'approve';
export const REJECT_ACTION_ID = 'reject';
export const DECISION_BLOCK_ID = 'decision';

/** Keep JSON.stringify(blocks) under this (Slack's undocumented aggregate limit is ~13,200). */
export const CARD_JSON_BUDGET = 11_500;
/** Characters of quoted message preview we try to show before shrinking for the budget. */
const MESSAGE_PREVIEW_START = 7000;
const SECTION_MAX = 3000;
const CHUNK_MAX = 2900;

const EVERYONE_CONFIRM = 'This sends the message to EVERYONE (every user of the app). It cannot be recalled.';

const STATE_WORDS: Record<RequestState, string> = {
  pending: 'pending approval',
  approved: 'approved, sending',
  sending: 'sending',
  sent: 'sent',
  failed: 'failed',
  rejected: 'rejected',
  expired: 'expired',
  cancelled: 'cancelled',
  unknown: 'outcome unknown',
};

function md(text: string, verbatim = false): MrkdwnElement {
  const el: MrkdwnElement = { type: 'mrkdwn', text: truncate(text, SECTION_MAX) };
  if (verbatim) el.verbatim = true;
  return el;
}

function section(text: string, verbatim = false): SectionBlock {
  return { type: 'section', text: md(text, verbatim) };
}

/** True when this request, as it would be pushed, reaches every user. */
export function reachesEveryone(req: BroadcastRequest): boolean {
  return isEveryone(req.draft.audience) || bodyReachesEveryone(req.body) === true;
}

/**
 * Quote user text (`> ` lines), escaped, cut to `budget` characters of mrkdwn with a truncation note,
 * and split into chunks that each fit in one section.
 */
export function quoteChunks(raw: string, budget: number, chunkMax = CHUNK_MAX): { chunks: string[]; truncated: boolean } {
  const full = escapeMrkdwn(raw)
    .split('\n')
    .map((l) => (l ? `> ${l}` : '>'))
    .join('\n');
  const truncated = full.length > budget;
  const text = truncated ? truncatePreview(full, budget, charCount(raw)) : full;
  const chunks: string[] = [];
  let cur = '';
  for (const line of text.split('\n')) {
    let l = line;
    while (l.length > chunkMax) {
      if (cur) {
        chunks.push(cur);
        cur = '';
      }
      const head = safeCut(l, chunkMax);
      chunks.push(head);
      l = `> ${l.slice(head.length)}`;
    }
    if (!cur) cur = l;
    else if (cur.length + 1 + l.length <= chunkMax) cur += `\n${l}`;
    else {
      chunks.push(cur);
      cur = l;
    }
  }
  if (cur) chunks.push(cur);
  return { chunks, truncated };
}

function notificationLines(op: OfflinePushDraft | undefined): string[] {
  if (!op) return [];
  const lines: string[] = [];
  if (op.title) lines.push(`*Notification title:* ${escapeAndTruncate(op.title, 150)}`);
  if (op.apnsSubtitle) lines.push(`*iOS subtitle:* ${escapeAndTruncate(op.apnsSubtitle, 150)}`);
  if (op.desc) lines.push(`*Notification text:* ${escapeAndTruncate(op.desc, 400)}`);
  if (op.ext) lines.push(`*Notification extra data (JSON):* ${code(op.ext, 400)}`);
  if (op.apnsBadgeMode === 1) lines.push("*iOS badge:* not increased");
  if (op.apnsSound) lines.push(`*iOS sound:* ${code(op.apnsSound, 100)}`);
  if (op.androidSound) lines.push(`*Android sound:* ${code(op.androidSound, 100)}`);
  if (op.apnsImage) lines.push(`*iOS image:* ${code(op.apnsImage, 300)}`);
  return lines;
}

function approverOf(req: BroadcastRequest): string | undefined {
  return req.decision?.by ?? req.approvals[req.approvals.length - 1]?.userId;
}

/** What happened to the request, for every state but pending. */
export function outcomeLines(req: BroadcastRequest, now: Date): string[] {
  const approver = approverOf(req);
  const r = req.result;
  switch (req.state) {
    case 'pending': {
      const age = (now.getTime() - Date.parse(req.createdAt)) / 1000;
      const waited = Number.isFinite(age) && age >= 0 ? ` (${formatDuration(age)})` : '';
      // An approval that never reached Tencent (quota race, restart) hands the request back: say so.
      const last = req.history.at(-1);
      const handedBack =
        last && last.from === 'approved' && last.to === 'pending'
          ? [`↩️ An earlier approval did not go through (${escapeMrkdwn(last.note ?? 'interrupted')}); nothing was pushed. Approve again to send.`]
          : [];
      return [
        ...handedBack,
        `⏳ Waiting for approval since ${slackDate(req.createdAt)}${waited}. Any approver other than the requester can decide.`,
      ];
    }
    case 'approved':
      return [`✅ Approved by ${mention(approver)} — sending…`];
    case 'sending':
      return [
        `✅ Approved by ${mention(approver)} — sending…`,
        ...(req.sendingAt ? [`📤 Sending since ${slackDate(req.sendingAt)}.`] : []),
      ];
    case 'sent': {
      const lines = [
        r?.kind === 'sent'
          ? `🚀 Sent — TaskId ${code(r.taskId, 200)}`
          : '🚀 Sent — no TaskId was recorded.',
      ];
      const details: string[] = [];
      if (approver) details.push(`Approved by ${mention(approver)}`);
      if (r?.kind === 'sent') details.push(`pushed ${slackDate(r.at)} (attempts: ${r.attempts})`);
      if (details.length) lines.push(`${details.join('; ')}.`);
      return lines;
    }
    case 'failed': {
      if (r?.kind === 'failed') {
        return [
          `❌ Failed — ${errorCode(r.code)}: ${escapeAndTruncate(r.explanation.title, 200)}`,
          ...explanationLines(r.explanation),
          ...(r.info ? [`Tencent said: ${code(r.info, 300)}`] : []),
          `${retryAdvice(r.explanation.retry)} *Nothing was pushed.*`,
        ];
      }
      if (r?.kind === 'unknown') return unknownLines(req);
      return ['❌ Failed — no error details were recorded. Nothing was pushed.'];
    }
    case 'unknown':
      return unknownLines(req);
    case 'rejected': {
      const by = mention(req.decision?.by);
      const reason = req.decision?.reason ? `: ${escapeAndTruncate(req.decision.reason, 600)}` : ' (no reason given)';
      const at = req.decision?.at ? ` ${slackDate(req.decision.at)}` : '';
      return [`🚫 Rejected by ${by}${reason}`, `Decided${at}. Nothing was pushed.`];
    }
    case 'expired':
      return [
        `⌛ Expired — nobody approved it in time (${slackDate(req.decision?.at ?? req.updatedAt)}). Nothing was pushed.`,
      ];
    case 'cancelled':
      return [
        `🗑️ Cancelled by ${mention(req.decision?.by ?? req.requesterId)} (${slackDate(req.decision?.at ?? req.updatedAt)}). Nothing was pushed.`,
      ];
    default:
      return [stateLabel(req.state)];
  }
}

function unknownLines(req: BroadcastRequest): string[] {
  const r = req.result;
  const lines: string[] = [];
  if (r?.kind === 'unknown') {
    lines.push(`❓ Outcome unknown — ${escapeAndTruncate(r.reason, 300)}`);
    lines.push(...explanationLines(r.explanation, 400));
  } else {
    lines.push('❓ Outcome unknown — the app lost track of the push while sending it.');
  }
  const sentAt = req.sendingAt ? ` around ${slackDate(req.sendingAt)}` : '';
  const rnd = msgRandomOf(req.body);
  lines.push(
    `The push MAY have gone out${sentAt}${rnd ? ` (MsgRandom ${code(rnd)})` : ''}. Check the push records / TaskId list in the Tencent Cloud IM console before requesting it again. The app will not push this again by itself.`,
  );
  return lines;
}

function approvalsLine(req: BroadcastRequest): string | undefined {
  if (!req.approvals.length) return undefined;
  const shown = req.approvals.slice(-5).map((a) => {
    const other = a.payloadHash !== req.payloadHash ? ' ⚠️ for a different payload' : '';
    return `${mention(a.userId)} ${slackDate(a.at)}${other}`;
  });
  const more = req.approvals.length - shown.length;
  return `Approvals: ${shown.join(', ')}${more > 0 ? ` (+${more} earlier)` : ''}`;
}

function confirmText(req: BroadcastRequest): string {
  if (reachesEveryone(req)) return EVERYONE_CONFIRM;
  const prefix = 'This sends the message to ';
  const suffix = '. It cannot be recalled.';
  const audience = describeAudience(req.draft.audience, 'plain');
  return prefix + truncate(audience, 300 - prefix.length - suffix.length) + suffix;
}

function decisionBlock(req: BroadcastRequest): ActionsBlock {
  return {
    type: 'actions',
    block_id: DECISION_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: APPROVE_ACTION_ID,
        text: { type: 'plain_text', text: 'Approve', emoji: true },
        style: 'primary',
        value: req.id,
        confirm: {
          title: { type: 'plain_text', text: 'Send this push?' },
          text: { type: 'plain_text', text: confirmText(req) },
          confirm: { type: 'plain_text', text: 'Push now' },
          deny: { type: 'plain_text', text: 'Not yet' },
          style: 'danger',
        },
      },
      {
        type: 'button',
        action_id: REJECT_ACTION_ID,
        text: { type: 'plain_text', text: 'Reject', emoji: true },
        style: 'danger',
        value: req.id,
      },
    ],
  };
}

function buildBlocks(req: BroadcastRequest, quota: QuotaStatus, now: Date, messageBudget: number): KnownBlock[] {
  const d = req.draft;
  const blocks: KnownBlock[] = [];
  const everyone = reachesEveryone(req);

  blocks.push({
    type: 'header',
    text: { type: 'plain_text', text: truncate(`📣 Broadcast request — ${stateLabel(req.state)}`, 150), emoji: true },
  });

  if (everyone) {
    blocks.push(section('⚠️ *This goes to EVERY user of the app.*'));
    if (!isEveryone(d.audience)) {
      blocks.push(
        section(
          `⚠️ The requested audience was ${escapeMrkdwn(audienceShort(d.audience))}, but the push body has no audience condition, so Tencent would send it to EVERY user. Do not approve; ask the requester to send it again.`,
        ),
      );
    }
  }

  blocks.push(section(`*Audience:* ${truncate(describeAudience(d.audience), 1500)}`, true));

  const rnd = msgRandomOf(req.body);
  blocks.push({
    type: 'section',
    fields: [
      md(`*Requested by*\n${mention(req.requesterId)}`),
      md(`*Created*\n${slackDate(req.createdAt)}`),
      md(`*Offline storage*\n${formatLifetime(d.lifetimeSeconds)}`),
      md(`*Sender*\n${d.sender ? code(d.sender, 100) : 'app admin'}`, true),
      md(`*Request id*\n${code(req.id, 100)}`),
      md(`*Payload fingerprint*\n${req.payloadHash ? code(req.payloadHash.slice(0, 12)) : 'not computed'}`),
      md(`*MsgRandom*\n${rnd ? code(rnd, 40) : 'not recorded'}`),
    ],
  });

  const notif = notificationLines(d.offlinePush);
  if (notif.length) blocks.push(section(notif.join('\n'), true));

  const n = charCount(d.message);
  blocks.push(
    section(
      `*Message as users will read it* — ${n} character${n === 1 ? '' : 's'}; approving sends the FULL text exactly as written:`,
    ),
  );
  const { chunks, truncated } = quoteChunks(d.message, messageBudget);
  for (const c of chunks) blocks.push(section(c, true));
  if (truncated) {
    blocks.push({
      type: 'context',
      elements: [
        md(
          `✂️ This card shows only the start of the message (Slack limits card size). Approving sends the FULL message: ${n} characters.`,
        ),
      ],
    });
  }

  if (d.note) {
    blocks.push(section(`*Note for the approvers* (not sent)\n${escapeAndTruncate(d.note, 600)}`, true));
  }

  const quotaText =
    req.state === 'pending' && quotaExhausted(quota)
      ? `🚫 ${formatQuota(quota)}. Approving now will not push; wait for the reset.`
      : `📊 ${formatQuota(quota)}`;
  blocks.push({ type: 'context', elements: [md(quotaText)] });

  blocks.push({ type: 'divider' });
  blocks.push(section(outcomeLines(req, now).join('\n')));

  const approvals = approvalsLine(req);
  if (approvals) blocks.push({ type: 'context', elements: [md(approvals)] });

  if (req.state === 'pending') blocks.push(decisionBlock(req));
  return blocks;
}

/** One-line notification fallback; no user text beyond the mention. */
export function cardFallbackText(req: BroadcastRequest): string {
  return `Broadcast request from ${mention(req.requesterId)} to ${audienceShort(req.draft.audience)} — ${STATE_WORDS[req.state] ?? req.state}`;
}

export function buildApprovalCard(o: {
  request: BroadcastRequest;
  quota: QuotaStatus;
  now: Date;
}): { text: string; blocks: KnownBlock[] } {
  const req = o.request;
  let budget = MESSAGE_PREVIEW_START;
  let blocks = buildBlocks(req, o.quota, o.now, budget);
  for (let i = 0; i < 8; i++) {
    const size = JSON.stringify(blocks).length;
    if (size <= CARD_JSON_BUDGET || budget <= 300) break;
    budget = Math.max(300, budget - (size - CARD_JSON_BUDGET) - 100);
    blocks = buildBlocks(req, o.quota, o.now, budget);
  }
  return { text: cardFallbackText(req), blocks };
}
