// Plain-words explanations for every error code the app's Tencent calls can return, and which of
// those codes prove that Tencent did NOT carry out the request.
// Reference: /work/shared/reference/tencent-im-push.md §1.6, §5, §6; platform-notes-2.md §2.3.
// Each explanation is one "what happened" and one "what to do". Where the app knows a value
// (SDKAppID, domain, admin account) the text names the value, not the setting that holds it.
// No secrets ever appear here: the context carries only public facts.
import { redactSecrets } from './redact.js';
import { REGIONS, isRegionName } from './regions.js';

/** 'wait' = it can work later, but only after waiting (rate limit, lock-out). */
export type RetryAdvice = 'no' | 'yes' | 'wait';

export interface ErrorExplanation {
  code: number | null;
  title: string;
  /** What happened. */
  what: string;
  /** What the person should do. */
  action: string;
  retry: RetryAdvice;
}

/** Public facts about the app's Tencent setup, used to name real values in explanations. */
export interface ExplainContext {
  dailyQuota?: number;
  quotaTimezone?: string;
  /** Region name as configured, e.g. 'singapore'. Used when `domain` is not given. */
  region?: string;
  sdkAppId?: number;
  /** The host the app calls, e.g. 'adminapisgp.im.qcloud.com' or '127.0.0.1:9000' (the base URL's host). */
  domain?: string;
  /** The admin identifier the app signs for (an account name, not a secret). */
  admin?: string;
}

/** Later contexts win, but an undefined field never hides a known one. */
export function mergeExplainContext(...contexts: (ExplainContext | undefined)[]): ExplainContext {
  const out: Record<string, unknown> = {};
  for (const c of contexts) for (const [k, v] of Object.entries(c ?? {})) if (v !== undefined) out[k] = v;
  return out as ExplainContext;
}

/** Refusals because calls came too fast. Tencent did not carry the request out; waiting helps. */
export const RATE_LIMIT_CODES: ReadonlySet<number> = new Set([90024, 60007, 60011, 60018, 60019]);

/**
 * The only refusals that are retried: Tencent's documentation says the request was not carried
 * out and advises trying again (91000 "internal error, retry"; the rate limits "back off").
 */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([91000, ...RATE_LIMIT_CODES]);

/**
 * Refusals that do not prove the request was dropped: a timeout or internal failure somewhere
 * behind the gateway, after which the backend may still have created the push task.
 * A push answered with one of these has an unknown outcome and is never sent again.
 */
export const OUTCOME_UNKNOWN_CODES: ReadonlySet<number> = new Set([60008, 60013, 60014, 70169, 70202, 70500]);

interface Ctx {
  dailyQuota: number;
  quotaTimezone: string;
  sdkAppId: number | undefined;
  domain: string | undefined;
  regionLabel: string | undefined;
  admin: string | undefined;
}

type Entry = { title: string; what: string; action: string; retry?: RetryAdvice };
type EntryFn = (c: Ctx) => Entry;

const DEV = 'Tell the engineers (include the error code): the app built a request Tencent does not accept.';
const CONSOLE = 'the Tencent Cloud IM console';

function app(c: Ctx): string {
  return c.sdkAppId !== undefined ? `SDKAppID ${c.sdkAppId}` : 'the configured SDKAppID (TIM_SDKAPPID)';
}

function host(c: Ctx): string {
  if (c.domain === undefined) return 'the configured domain (TIM_REGION / TIM_BASE_URL)';
  return c.regionLabel ? `${c.domain} (${c.regionLabel})` : c.domain;
}

function adminAccount(c: Ctx): string {
  return c.admin !== undefined ? `the account “${c.admin}”` : 'the admin account (TIM_ADMIN)';
}

function regionFix(c: Ctx): string {
  const other = c.domain === REGIONS['chinese-mainland'].domain ? REGIONS.singapore : REGIONS['chinese-mainland'];
  return `Call the domain of the data center where ${app(c)} was created (${CONSOLE} shows each app's region; e.g. ${other.label} is ${other.domain}), or correct the SDKAppID.`;
}

function keyFix(c: Ctx): string {
  return `Copy the secret key of ${app(c)} from ${CONSOLE} (Application configuration › Basic information) into TIM_SECRET_KEY and restart the app.`;
}

function makeAdmin(c: Ctx): string {
  return `Add ${adminAccount(c)} under App admins in ${CONSOLE}, or sign with an account listed there.`;
}

const SQL_ERROR: Entry = {
  title: 'Operations data unavailable',
  what: 'Tencent’s operations-data store failed (a database error), so the audience size could not be read.',
  action: 'Nothing to do: the audience size shows as unknown and the app asks again later.',
};

const outcomeUnknownAction = (c: Ctx) =>
  `The app does not send it again; check the push records of ${app(c)} in ${CONSOLE} before requesting it again.`;

const internalTimeout: EntryFn = (c) => ({
  title: 'Tencent internal timeout',
  what: 'Tencent timed out internally; the request may still have been carried out.',
  action: outcomeUnknownAction(c),
});

const ENTRIES: Record<number, Entry | EntryFn> = {
  // ---- im_push specific (§1.6)
  90001: { title: 'Request was not valid JSON', what: 'Tencent could not parse the request as JSON.', action: DEV },
  90002: {
    title: 'Message content is malformed',
    what: 'The message content (MsgBody) does not match Tencent’s message format.',
    action: 'Fix the text or custom element of the message and submit the broadcast again.',
  },
  90004: { title: 'Message sequence number is invalid', what: 'The message sequence number (MsgSeq) is not a number or out of range.', action: DEV },
  90005: { title: 'MsgRandom is missing or invalid', what: 'The random message number (MsgRandom) is not a whole number from 0 to 4294967295.', action: DEV },
  90007: { title: 'Message content is not a list', what: 'The message content (MsgBody) is not a list of message parts.', action: DEV },
  90009: (c) => ({
    title: 'Sender is not an app admin',
    what: `${cap(adminAccount(c))} is not an app admin of ${app(c)}, and pushing to all members needs one.`,
    action: makeAdmin(c),
  }),
  90010: {
    title: 'Request format is invalid',
    what: 'The push request does not match Tencent’s format (for example the audience or the notification settings).',
    action: 'Check the audience and notification settings of the broadcast and submit it again.',
  },
  90018: {
    title: 'Too many accounts in one request',
    what: 'The request lists more accounts than Tencent allows in one call.',
    action: 'Split the accounts into batches of at most 100. ' + DEV,
  },
  90020: {
    title: 'A tag is too long',
    what: 'A tag in the audience is longer than 50 bytes (about 16 Chinese characters).',
    action: 'Shorten the tag and submit the broadcast again.',
  },
  90022: {
    title: 'Same tag in both tag lists',
    what: 'A tag is both in “all of these tags” (TagsAnd) and in “any of these tags” (TagsOr).',
    action: 'Remove the tag from one of the two lists and submit again.',
  },
  90024: {
    title: 'Pushes too close together',
    what: 'This push came within 1 second of the previous one, so Tencent did not carry it out.',
    action: 'Nothing to do: the app waits and sends it again by itself.',
    retry: 'wait',
  },
  90026: {
    title: 'Offline storage time out of range',
    what: 'The offline storage time (MsgLifeTime) is not a whole number of seconds from 0 to 604800 (7 days).',
    action: 'Pick an offline storage time of at most 7 days and submit again.',
  },
  90032: { title: 'Too many tags', what: 'The audience has more than 10 tags in one list.', action: 'Use at most 10 tags per list and submit again.' },
  90033: {
    title: 'Invalid attribute',
    what: 'An attribute in the audience is not one of the app’s attribute names, or a name or value is empty or too long.',
    action: 'Use only the attribute names offered in the form, with non-empty values, and submit again.',
  },
  90039: {
    title: 'Tags and attributes mixed',
    what: 'The audience uses tags and attributes together; Tencent allows only one kind per push.',
    action: 'Target either by tags or by attributes and submit again.',
  },
  90040: { title: 'Empty tag', what: 'A tag in the audience is empty.', action: 'Remove the empty tag and submit again.' },
  90045: (c) => ({
    title: 'All-member push is not enabled',
    what: `All-member push is not enabled for ${app(c)}.`,
    action:
      'Ask the Tencent Cloud account owner to upgrade the app to an edition that includes it (Flagship 旗舰版 on cloud.tencent.com, Ultimate on tencentcloud.com, Pro / Pro Plus / Enterprise on trtc.io) and switch on Console › Feature configuration › Login and message › All-member push settings (功能配置 › 登录与消息 › 全员推送设置); it can take up to 48 hours to work.',
  }),
  90047: (c) => ({
    title: 'Daily push quota used up',
    what: `${cap(app(c))} has used all ${c.dailyQuota} pushes of today (all, tag and attribute pushes count together).`,
    action: `Send it after the quota resets at midnight ${c.quotaTimezone} time, or ask the Tencent Cloud account owner to buy more daily pushes with a support ticket.`,
  }),
  90049: {
    title: 'Unknown push task',
    what: 'Tencent has no push task with this TaskId.',
    action: 'Check the TaskId; im_push tasks cannot be recalled, only tasks of Tencent’s newer Push service.',
  },
  90050: { title: 'Already recalled', what: 'This push task was already recalled.', action: 'Nothing to do: the earlier recall stands.' },
  90051: { title: 'Recalls too frequent', what: 'Tencent allows at most 1 recall per second.', action: 'Wait a moment and try the recall again.', retry: 'wait' },
  90052: {
    title: 'Too late to recall',
    what: 'A push can only be recalled within 24 hours, and this one is older.',
    action: 'Send a correction broadcast instead.',
  },
  90053: {
    title: 'Recall needs notification settings',
    what: 'This push was not stored for roaming, so its recall must carry notification settings (OfflinePushInfo).',
    action: DEV,
  },
  90056: {
    title: 'Push request too large',
    what: 'The push request is larger than Tencent’s 10 KB limit.',
    action: 'Shorten the message or the notification and submit again.',
  },
  91000: {
    title: 'Tencent internal error',
    what: 'Tencent had an internal error and did not carry out the request.',
    action: 'The app tries again by itself a few times; if it still fails, request the broadcast again later.',
    retry: 'yes',
  },
  20002: (c) => ({
    title: 'Internal authentication failed',
    what: `Tencent could not authenticate the request of ${adminAccount(c)} for ${app(c)}.`,
    action: keyFix(c),
  }),

  // ---- REST layer, 600xx (§5.1)
  60002: { title: 'Request URL not understood', what: 'Tencent could not parse the HTTP request (URL or query parameters).', action: DEV },
  60003: { title: 'Request JSON not understood', what: 'Tencent could not parse the request JSON.', action: DEV },
  60004: (c) => ({
    title: 'Account or UserSig is wrong',
    what: `Tencent rejected ${adminAccount(c)} or its UserSig for ${app(c)}.`,
    action: keyFix(c),
  }),
  60005: (c) => ({
    title: 'Account or UserSig is wrong',
    what: `Tencent rejected ${adminAccount(c)} or its UserSig for ${app(c)}.`,
    action: keyFix(c),
  }),
  60006: (c) => ({ title: 'SDKAppID is invalid', what: `${host(c)} does not accept ${app(c)}.`, action: regionFix(c) }),
  60007: {
    title: 'Too many API calls',
    what: 'The app called Tencent’s REST API more often than allowed, so Tencent did not carry out the request.',
    action: 'Nothing to do: the app backs off and tries again; if it persists, look for other systems using the same SDKAppID.',
    retry: 'wait',
  },
  60008: (c) => ({
    title: 'Tencent service timed out',
    what: 'Tencent’s gateway timed out waiting for its backend; the push may still have been created.',
    action: outcomeUnknownAction(c),
  }),
  60009: (c) => ({ title: 'Wrong API path', what: `${host(c)} does not know the URL path the app called.`, action: DEV }),
  60010: (c) => ({ title: 'Sender is not an app admin', what: `${cap(adminAccount(c))} is not an app admin of ${app(c)}.`, action: makeAdmin(c) }),
  60011: (c) => ({
    title: 'Too many calls for this app',
    what: `${cap(app(c))} called Tencent more often than allowed, so Tencent did not carry out the request.`,
    action: 'Nothing to do: the app backs off and tries again.',
    retry: 'wait',
  }),
  60012: { title: 'SDKAppID missing', what: 'The request URL does not carry the SDKAppID.', action: DEV },
  60013: (c) => ({
    title: 'Tencent internal error',
    what: 'Tencent failed to parse an internal response; the request may still have been carried out.',
    action: outcomeUnknownAction(c),
  }),
  60014: (c) => ({
    title: 'Account exchange timed out',
    what: 'Tencent timed out while checking the admin account; the request may still have been carried out.',
    action: outcomeUnknownAction(c),
  }),
  60015: { title: 'Account field has the wrong type', what: 'An account field in the request is not text.', action: DEV },
  60016: (c) => ({ title: 'SDKAppID disabled', what: `Tencent has disabled ${app(c)}.`, action: `Open a ticket with Tencent Cloud support for ${app(c)}.` }),
  60017: (c) => ({
    title: 'Request disabled',
    what: `Tencent has disabled this kind of request for ${app(c)}.`,
    action: `Open a ticket with Tencent Cloud support for ${app(c)}.`,
  }),
  60018: {
    title: 'Too many requests',
    what: 'Requests came too fast for Tencent, so it did not carry this one out.',
    action: 'Nothing to do: the app backs off and tries again.',
    retry: 'wait',
  },
  60019: {
    title: 'Too many requests',
    what: 'Requests came too fast for Tencent, so it did not carry this one out.',
    action: 'Nothing to do: the app backs off and tries again.',
    retry: 'wait',
  },
  60020: (c) => ({
    title: 'Paid package expired',
    what: `The paid package (edition) of ${app(c)} has expired or is suspended.`,
    action: 'Ask the Tencent Cloud account owner to renew it; it works again about 5 minutes later.',
  }),
  60021: (c) => ({
    title: 'Server IP address not allowed',
    what: `This server’s IP address is not on the REST API IP allowlist of ${app(c)}.`,
    action: `Add this server’s public IP address to the IP allowlist in ${CONSOLE}, or remove the allowlist.`,
  }),
  80001: {
    title: 'Blocked by content security',
    what: 'Tencent’s content security check blocked the text of the message.',
    action: 'Reword the message (remove sensitive words) and submit a new broadcast.',
  },
  80002: {
    title: 'Message too long',
    what: 'The message is longer than Tencent’s 8000-byte limit (a Chinese character takes 3 bytes).',
    action: 'Shorten the message and submit again.',
  },

  // ---- Account / signature, 700xx–71000 (§5.2)
  70001: (c) => ({
    title: 'UserSig expired',
    what: 'The signature (UserSig) the app made for the admin account had expired when Tencent checked it.',
    action: `Sync this server's clock (NTP): the app signs afresh each time, so a wrong clock is the usual cause. If the clock is right, ${lower(keyFix(c))}`,
  }),
  70002: { title: 'UserSig missing', what: 'The request carried an empty signature (UserSig).', action: DEV },
  70003: (c) => ({
    title: 'UserSig could not be read',
    what: `Tencent could not decode the signature (UserSig) of ${adminAccount(c)}; it was not made for ${app(c)}.`,
    action: keyFix(c),
  }),
  70005: (c) => ({ title: 'UserSig check failed', what: `Tencent rejected the signature (UserSig) of ${adminAccount(c)}.`, action: keyFix(c) }),
  70009: (c) => ({
    title: 'Wrong secret key',
    what: `The signature (UserSig) was made with a key that does not belong to ${app(c)}.`,
    action: keyFix(c),
  }),
  70013: (c) => ({
    title: 'UserSig made for another account',
    what: `The signature (UserSig) was made for another account than ${adminAccount(c)}.`,
    action: 'Restart the app so it signs again for its admin account; if it repeats, tell the engineers.',
  }),
  70014: (c) => ({
    title: 'UserSig made for another app',
    what: `The signature (UserSig) was made for another app than ${app(c)}.`,
    action: keyFix(c),
  }),
  70016: (c) => ({
    title: 'App not found in this data center',
    what: `Tencent found no key for ${app(c)} at ${host(c)}.`,
    action: regionFix(c),
  }),
  70020: (c) => ({ title: 'SDKAppID not found', what: `Tencent does not know ${app(c)} at ${host(c)}.`, action: regionFix(c) }),
  70050: (c) => ({
    title: 'Locked after failed sign-ins',
    what: `Too many signature checks failed, so Tencent locked ${adminAccount(c)} for about 1 minute.`,
    action: `Fix the credentials first, or it locks again: ${lower(keyFix(c))}`,
    retry: 'wait',
  }),
  70051: (c) => ({
    title: 'Admin account blocklisted',
    what: `${cap(adminAccount(c))} is on Tencent’s blocklist.`,
    action: `Remove it from the blocklist in ${CONSOLE}, or use another app admin account.`,
  }),
  70052: (c) => ({
    title: 'UserSig invalidated',
    what: 'The signature (UserSig) was invalidated, for example because the key was reset.',
    action: keyFix(c),
  }),
  70107: {
    title: 'Account does not exist',
    what: 'An account in the request (for example the sender) does not exist in the app.',
    action: 'Use an existing account (import it first), or leave the sender empty to send as the app admin.',
  },
  70114: (c) => ({ title: 'Restricted for security', what: 'Tencent restricted the request for security reasons.', action: `Open a ticket with Tencent Cloud support for ${app(c)}.` }),
  70169: internalTimeout,
  70202: internalTimeout,
  70206: { title: 'Invalid batch size', what: 'The number of accounts in a batch request is invalid.', action: DEV },
  70398: (c) => ({
    title: 'Account limit of the free edition',
    what: `${cap(app(c))} has more accounts than the free trial edition allows.`,
    action: 'Ask the Tencent Cloud account owner to upgrade the edition.',
  }),
  70402: { title: 'Invalid parameter', what: 'A required field of the request is missing or invalid.', action: DEV },
  70403: (c) => ({ title: 'Sender is not an app admin', what: `${cap(adminAccount(c))} is not an app admin of ${app(c)}.`, action: makeAdmin(c) }),
  70500: (c) => ({
    title: 'Tencent internal error',
    what: 'Tencent had an internal server error; the request may still have been carried out.',
    action: outcomeUnknownAction(c),
  }),
  71000: { title: 'Account deletion not allowed', what: 'Deleting accounts is only allowed on the trial edition.', action: 'Not relevant to pushes; tell the engineers.' },

  // ---- v4/openconfigsvr/getappinfo (operations data; platform-notes-2 §2.3)
  130001: { title: 'Operations data request not understood', what: 'Tencent could not parse the operations-data request JSON.', action: DEV },
  130009: SQL_ERROR,
  130010: SQL_ERROR,
  130011: SQL_ERROR,
  130012: SQL_ERROR,
};

function cap(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function lower(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** Every code with a dedicated explanation. */
export const EXPLAINED_CODES: readonly number[] = Object.keys(ENTRIES).map(Number);

function regionLabelOf(domain: string | undefined): string | undefined {
  if (domain === undefined) return undefined;
  const d = domain.toLowerCase();
  return Object.values(REGIONS).find((r) => r.domain === d || ('backupDomain' in r && r.backupDomain === d))?.label;
}

function resolveCtx(ctx: ExplainContext | undefined): Ctx {
  const region = ctx?.region !== undefined && isRegionName(ctx.region) ? REGIONS[ctx.region] : undefined;
  const domain = ctx?.domain ?? region?.domain;
  return {
    dailyQuota: ctx?.dailyQuota ?? 100,
    quotaTimezone: ctx?.quotaTimezone ?? 'Asia/Shanghai',
    sdkAppId: ctx?.sdkAppId,
    domain,
    regionLabel: regionLabelOf(domain) ?? (ctx?.domain === undefined ? region?.label : undefined),
    admin: ctx?.admin,
  };
}

function tencentSaid(errorInfo: string | undefined): string {
  const info = redactSecrets(errorInfo ?? '').trim();
  if (!info) return '';
  return ` Tencent said: “${info.length > 300 ? info.slice(0, 300) + '…' : info}”.`;
}

export function explainError(code: number, errorInfo?: string, ctx?: ExplainContext): ErrorExplanation {
  const entry = ENTRIES[code];
  if (entry === undefined) return explainUnknownCode(code, errorInfo);
  const e = typeof entry === 'function' ? entry(resolveCtx(ctx)) : entry;
  return { code, title: e.title, what: e.what + tencentSaid(errorInfo), action: e.action, retry: e.retry ?? 'no' };
}

function explainUnknownCode(code: number, errorInfo: string | undefined): ErrorExplanation {
  const said = tencentSaid(errorInfo);
  return {
    code,
    title: `Tencent error ${code}`,
    what: `Tencent refused the request with error code ${code}, which this app does not know.${said || ' Tencent gave no further details.'}`,
    action: `Look up error code ${code} in the Tencent Cloud IM error code list and tell the engineers.`,
    retry: 'no',
  };
}

/**
 * Failures without a usable Tencent answer. 'not_sent' is provably harmless; 'unknown' is not:
 * the request may have been carried out, so nobody may send it again blindly.
 */
export function explainTransportFailure(kind: 'not_sent' | 'unknown', reason: string, ctx?: ExplainContext): ErrorExplanation {
  const why = redactSecrets(reason);
  const c = resolveCtx(ctx);
  if (kind === 'not_sent') {
    return {
      code: null,
      title: 'Could not reach Tencent',
      what: `The request never left this server (${why}), so nothing was pushed.`,
      action: `It is safe to try again; if it keeps failing, check that this server can reach ${host(c)} (network, DNS, firewall).`,
      retry: 'yes',
    };
  }
  return {
    code: null,
    title: 'Outcome unknown',
    what: `The request may have reached Tencent but no usable answer came back (${why}); the push MAY have gone out.`,
    action: `The app does not send it again; check the push records of ${app(c)} in ${CONSOLE} before requesting it again.`,
    retry: 'no',
  };
}
