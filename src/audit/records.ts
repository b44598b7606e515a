// What the audit export says about one request: the full record (JSON) or one spreadsheet row (CSV).
import { reachesEveryone } from '../broadcast/decisions.js';
import type { Audience, BroadcastRequest } from '../broadcast/types.js';
import { makeRedactor } from '../logger.js';

export const CSV_HEADER = ['id', 'created', 'requester', 'audience', 'message', 'state', 'approvers', 'decided at', 'TaskId', 'error code', 'reason'] as const;

export type CsvRow = Array<string | number>;

/**
 * Who received (or would receive) the push, in words short enough for a spreadsheet cell:
 * "everyone", "tags all: a, b; any: c", "attributes all: city=Shenzhen; any: level=gold".
 * (The views' wording is written for Slack messages; a column wants the compact form.)
 */
export function audienceInWords(r: Pick<BroadcastRequest, 'body'> & { draft: { audience: Audience } }): string {
  // What the body says is what Tencent is told: no Condition reaches every user, whatever the form said.
  if (reachesEveryone(r)) return 'everyone';
  const a = r.draft.audience;
  if (a.kind === 'all') return 'everyone';
  const words = (xs: string[]) => xs.join(', ');
  const all = a.kind === 'tags' ? a.all : Object.entries(a.all).map(([k, v]) => `${k}=${v}`);
  const any = a.kind === 'tags' ? a.any : Object.entries(a.any).map(([k, v]) => `${k}=${v}`);
  const parts = [...(all.length ? [`all: ${words(all)}`] : []), ...(any.length ? [`any: ${words(any)}`] : [])];
  return `${a.kind} ${parts.join('; ')}`;
}

/**
 * When the request was decided: resolved (an unknown outcome settled by a person), rejected,
 * cancelled or expired, or else approved (the last approval, for now or for later, since the last edit).
 */
export function decidedAt(r: BroadcastRequest): string | undefined {
  if (r.resolution) return r.resolution.at;
  if (r.decision) return r.decision.at;
  for (let i = r.history.length - 1; i >= 0; i--) {
    const e = r.history[i]!;
    if (e.kind === 'edited') return undefined; // approvals before an edit no longer count
    if (e.kind === 'approved' || e.kind === 'scheduled') return e.at;
  }
  return undefined;
}

export function csvRow(r: BroadcastRequest): CsvRow {
  const taskId = (r.result?.kind === 'sent' ? r.result.taskId : undefined) ?? r.resolution?.taskId ?? '';
  const errorCode = r.state === 'failed' && r.result?.kind === 'failed' ? (r.result.code ?? '') : '';
  const reason = r.state === 'rejected' ? (r.decision?.reason ?? '') : r.result?.kind === 'unknown' ? r.result.reason : '';
  return [
    r.id,
    r.createdAt,
    r.requesterId,
    audienceInWords(r),
    r.draft.message,
    r.state,
    [...new Set(r.approvals.map((a) => a.userId))].join(' '),
    decidedAt(r) ?? '',
    taskId,
    errorCode,
    reason,
  ];
}

/**
 * Records hold no secrets by construction (the UserSig lives only in request URLs, tokens only in
 * headers, and the Tencent client redacts its error texts), but they do hold texts from outside
 * (Tencent's error info, Slack's delivery errors, reasons typed by people). As a second line of
 * defence the export removes the configured secrets everywhere, and anything shaped like a token
 * or a UserSig everywhere except in what was pushed (`draft`, `body`), which is exported verbatim.
 */
export function recordRedactor(secrets: ReadonlyArray<string | undefined>): (r: BroadcastRequest) => BroadcastRequest {
  const known = secrets.filter((s): s is string => typeof s === 'string' && s.length >= 6);
  const patterns = makeRedactor(known);
  const exact = (text: string) => known.reduce((out, s) => out.split(s).join('[redacted]'), text);
  const walk = (value: unknown, clean: (s: string) => string): unknown => {
    if (typeof value === 'string') return clean(value);
    if (Array.isArray(value)) return value.map((v) => walk(v, clean));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, clean)]));
    return value;
  };
  return (r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, walk(v, k === 'draft' || k === 'body' ? exact : patterns)])) as unknown as BroadcastRequest;
}
