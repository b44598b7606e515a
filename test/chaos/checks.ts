/**
 * What must hold after every trial of the fault campaign, whatever was clicked, refused, dropped or
 * killed: at most one accepted push task per request, no push without a valid approval, and every
 * card and thread telling the truth. Pure functions over what the store, the push emulator and the
 * fake Slack hold; wording is never compared (views are rewritten elsewhere) — states, metadata,
 * button values and stable tokens (TaskId, error code, MsgRandom, mentions) are.
 */
import { payloadHash, payloadVersion } from '../../src/broadcast/draft.js';
import { owesDm, owesThread } from '../../src/broadcast/lifecycle.js';
import type { BroadcastRequest, HistoryEntry } from '../../src/broadcast/types.js';
import type { AcceptedPush, EmulatorRequest } from '../../src/tim/emulator.js';
import { canonicalJson } from '../../src/tim/push-body.js';
import type { StoredMessage } from '../fakes/fake-slack.js';

export interface Violation {
  trial: number;
  requestId?: string;
  check: string;
  detail: string;
}

/** States a request may be left in once nothing more happens by itself. */
export const RESTING_STATES = ['sent', 'failed', 'rejected', 'cancelled', 'expired', 'not_sent', 'unknown'] as const;

/** What Slack shows about one request. */
export interface SlackView {
  /** Top-level messages in the approval channel whose metadata names the request. */
  cards: StoredMessage[];
  /** Replies in the thread of the card the request records. */
  thread: StoredMessage[];
  /** DMs to the requester, when they belong to this request alone (else undefined: not checked). */
  dms?: StoredMessage[];
}

export interface CheckInput {
  trial: number;
  approvers: ReadonlySet<string>;
  requests: BroadcastRequest[];
  slack: Map<string, SlackView>;
  /** Every push task the emulator accepted so far in the campaign, by MsgRandom. */
  acceptedByMsgRandom: Map<number, AcceptedPush[]>;
  /** im_push requests of this trial (whatever their answer). */
  pushRequests: EmulatorRequest[];
  /** MsgRandom → request id, of every request seen in the campaign (its current body). */
  requestOfMsgRandom: Map<number, string>;
  /** New accepted pushes of this trial. */
  newPushes: AcceptedPush[];
}

export interface CheckResult {
  violations: Violation[];
  /** Slack posts made twice (at least once delivery): not violations, but counted. */
  duplicates: { thread: number; dm: number; card: number };
}

export const textOf = (m: StoredMessage | undefined): string => (m ? `${m.text ?? ''}\n${JSON.stringify(m.blocks ?? [])}` : '');

export function cardState(m: StoredMessage | undefined): { state?: string; taskId?: string; errorCode?: number | string } {
  const p = (m?.metadata as { event_payload?: Record<string, unknown> } | undefined)?.event_payload ?? {};
  return {
    ...(typeof p['state'] === 'string' ? { state: p['state'] } : {}),
    ...(typeof p['task_id'] === 'string' ? { taskId: p['task_id'] } : {}),
    ...(p['error_code'] !== undefined ? { errorCode: p['error_code'] as number | string } : {}),
  };
}

/** Every button on a message: action_id and value. */
export function buttonsOf(m: StoredMessage | undefined): { actionId: string; value: string }[] {
  const out: { actionId: string; value: string }[] = [];
  for (const b of (m?.blocks ?? []) as { type?: string; elements?: { type?: string; action_id?: string; value?: string }[] }[]) {
    if (b?.type !== 'actions') continue;
    for (const e of b.elements ?? []) if (e?.type === 'button' && e.action_id) out.push({ actionId: e.action_id, value: String(e.value ?? '') });
  }
  return out;
}

/** Messages with their exact repeats removed (a repeat = the same text posted again), and how many repeats there were. */
export function distinctPosts(messages: StoredMessage[]): { distinct: StoredMessage[]; repeats: number } {
  // A redelivery posts the same entry again before the next one (the outbox delivers in order), so
  // only a repeat of the entry just before is one; the same words later are another event (two
  // approvals by the same person in the same minute, with "back to pending" between them).
  const distinct: StoredMessage[] = [];
  let last: string | undefined;
  for (const m of messages) {
    const key = m.text ?? JSON.stringify(m.blocks ?? []);
    if (key === last) continue;
    last = key;
    distinct.push(m);
  }
  return { distinct, repeats: messages.length - distinct.length };
}

/** The TaskId a request in 'sent' claims: Tencent's answer, or what the approver read from the console. */
function claimedTaskId(r: BroadcastRequest): string | undefined {
  return r.result?.kind === 'sent' ? r.result.taskId : r.resolution?.taskId;
}

/** A token the thread entry of `e` must carry, whatever its wording. */
function tokenOf(r: BroadcastRequest, e: HistoryEntry): string | undefined {
  switch (e.kind) {
    case 'sent':
      return e.taskId;
    case 'failed':
      return e.code !== null && e.code !== undefined ? String(e.code) : undefined;
    case 'unknown':
      return String(r.body.MsgRandom);
    case 'rejected':
    case 'approved':
    case 'approval':
    case 'marked_sent':
    case 'marked_not_sent':
    case 'cancelled':
      return e.by ? `<@${e.by}>` : undefined;
    default:
      return undefined;
  }
}

export function checkTrial(input: CheckInput): CheckResult {
  const violations: Violation[] = [];
  const duplicates = { thread: 0, dm: 0, card: 0 };
  const fail = (check: string, detail: string, requestId?: string) =>
    violations.push({ trial: input.trial, check, detail, ...(requestId ? { requestId } : {}) });

  // (1) At most one accepted task per MsgRandom, and none for a MsgRandom no request (version) carries.
  const fresh = [...new Map(input.newPushes.map((p) => [p.body.MsgRandom, p])).values()];
  for (const p of fresh) {
    const all = input.acceptedByMsgRandom.get(p.body.MsgRandom) ?? [];
    if (all.length > 1) fail('at-most-once', `MsgRandom ${p.body.MsgRandom} has ${all.length} accepted tasks: ${all.map((a) => a.taskId).join(', ')}`, input.requestOfMsgRandom.get(p.body.MsgRandom));
    if (!input.requestOfMsgRandom.has(p.body.MsgRandom)) fail('push-of-nothing', `accepted push ${p.taskId} carries MsgRandom ${p.body.MsgRandom}, which no request's current body has (an old version, or no request at all)`);
  }

  for (const r of input.requests) {
    const id = r.id;
    const m = r.body.MsgRandom;
    const accepted = input.acceptedByMsgRandom.get(m) ?? [];
    const view = input.slack.get(id) ?? { cards: [], thread: [] };

    // Settled at all?
    if (!(RESTING_STATES as readonly string[]).includes(r.state)) fail('settled', `left in state ${r.state}`, id);
    if (r.lease) fail('settled', `still holds a push lease (${r.lease.owner} until ${r.lease.until}) in state ${r.state}`, id);
    if (r.outbox.lease) fail('settled', `still holds a delivery lease (${r.outbox.lease.owner})`, id);

    // (2) No push without a valid approval; the body pushed is the body approved.
    for (const q of input.pushRequests.filter((q) => (q.body as { MsgRandom?: unknown } | null)?.MsgRandom === m)) {
      if (canonicalJson(q.body) !== canonicalJson(r.body)) fail('pushed-body', `an im_push with MsgRandom ${m} carried a body other than the stored one`, id);
    }
    if (accepted.length > 0) {
      const distinct = new Set(r.approvals.map((a) => a.userId));
      const approvedEvent = r.history.some((e) => e.kind === 'approved' || e.kind === 'claimed');
      const problems = [
        distinct.size < r.requiredApprovals && `${distinct.size} distinct approvals of ${r.requiredApprovals} needed`,
        distinct.size !== r.approvals.length && 'the same approver counted twice',
        r.approvals.some((a) => a.userId === r.requesterId) && 'approved by the requester',
        r.approvals.some((a) => !input.approvers.has(a.userId)) && `approved by a non-approver (${r.approvals.map((a) => a.userId).join(', ')})`,
        r.approvals.some((a) => a.version !== r.version) && `an approval for another version (${r.approvals.map((a) => a.version).join(', ')} vs ${r.version})`,
        payloadHash(r.body) !== r.payloadHash && 'the stored body does not match its hash',
        payloadVersion(r.payloadHash, r.draft.sendAt) !== r.version && 'the version does not match the body',
        !approvedEvent && 'no approved event in the history',
        r.history.some((e) => e.kind === 'rejected' || e.kind === 'cancelled' || e.kind === 'expired') && 'pushed although rejected, cancelled or expired',
      ].filter((x): x is string => typeof x === 'string');
      if (problems.length) fail('valid-approval', `pushed (${accepted.map((a) => a.taskId).join(', ')}) but ${problems.join('; ')}`, id);
    }

    // (3) The state tells the truth about Tencent.
    if (accepted.length > 0 && !['sent', 'unknown'].includes(r.state)) {
      fail('truth', `Tencent accepted ${accepted[0]!.taskId} but the request says ${r.state}`, id);
    }
    if (r.state === 'sent') {
      const taskId = claimedTaskId(r);
      if (accepted.length === 0) fail('truth', `says sent (TaskId ${taskId ?? 'none'}) but Tencent accepted no push with MsgRandom ${m}`, id);
      else if (taskId && !accepted.some((a) => a.taskId === taskId)) fail('truth', `says TaskId ${taskId}, Tencent's is ${accepted[0]!.taskId}`, id);
    }

    // (3b) The card: one, showing the state, the TaskId or the error, and live buttons only while pending.
    const ended = r.outbox.ended ?? {};
    const recorded = r.card ? view.cards.find((c) => c.ts === r.card!.ts) : undefined;
    if (view.cards.length > 1) duplicates.card += view.cards.length - 1;
    if (!ended.card) {
      if (!r.card) fail('card', 'no card was recorded', id);
      else if (!recorded) fail('card', `the recorded card ${r.card.ts} is not in the channel`, id);
    }
    for (const card of view.cards) {
      const which = card === recorded ? 'the card' : `an extra card (${card.ts})`;
      const shown = cardState(card);
      if (ended.card) continue;
      if (shown.state !== r.state) fail('card', `${which} says ${shown.state ?? '(no state)'}, the request is ${r.state}`, id);
      if (r.state === 'sent' && claimedTaskId(r) && shown.taskId !== claimedTaskId(r)) fail('card', `${which} shows TaskId ${shown.taskId ?? 'none'}, not ${claimedTaskId(r)}`, id);
      if (r.state === 'failed' && r.result?.kind === 'failed' && r.result.code !== null && String(shown.errorCode) !== String(r.result.code)) {
        fail('card', `${which} shows error ${String(shown.errorCode)}, not ${r.result.code}`, id);
      }
      const buttons = buttonsOf(card);
      if (r.state !== 'pending' && buttons.some((b) => b.actionId === 'approve' || b.actionId === 'approve_now')) fail('card', `${which} offers Approve in state ${r.state}`, id);
      const stale = buttons.filter((b) => b.value !== `${r.id}:${r.version}`);
      if (stale.length) fail('card', `${which} has buttons for another version: ${stale.map((b) => `${b.actionId}=${b.value}`).join(', ')}`, id);
    }

    // (3c) The thread: one entry per event that owes one, in order (repeats counted, not failed), each with its token.
    const owed = r.history.map((e, i) => ({ e, i })).filter(({ i }) => owesThread(r, i));
    const { distinct, repeats } = distinctPosts(view.thread);
    duplicates.thread += repeats;
    if (!ended.thread && recorded) {
      if (distinct.length !== owed.length) {
        fail('thread', `${distinct.length} distinct thread entries for ${owed.length} events that owe one (${owed.map(({ e }) => e.kind).join(', ')})`, id);
      } else {
        owed.forEach(({ e }, k) => {
          const token = tokenOf(r, e);
          if (token && !textOf(distinct[k]).includes(token)) fail('thread', `thread entry ${k + 1} (${e.kind}) does not carry ${token}`, id);
        });
      }
    }
    if (!ended.thread && r.state === 'sent' && claimedTaskId(r) && !view.thread.some((t) => textOf(t).includes(claimedTaskId(r)!))) {
      fail('thread', `no thread entry carries the TaskId ${claimedTaskId(r)}`, id);
    }

    // (3d) The requester hears of every event that owes a DM (when the DMs are theirs alone to tell apart).
    if (view.dms) {
      const owedDms = r.history.filter((_, i) => owesDm(r, i)).length;
      const dm = distinctPosts(view.dms);
      duplicates.dm += dm.repeats;
      const skipped = r.history.filter((e) => e.kind === 'delivery_ended' && e.target === 'dm').length;
      if (!ended.dm && dm.distinct.length + skipped !== owedDms) fail('dm', `${dm.distinct.length} distinct DMs (+${skipped} skipped) for ${owedDms} events that owe one`, id);
      if (ended.dm && dm.distinct.length > owedDms) fail('dm', `${dm.distinct.length} DMs after the DM target ended, ${owedDms} owed`, id);
    }
  }
  return { violations, duplicates };
}
