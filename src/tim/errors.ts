// Plain-words explanations for every error code the im_push call can return.
// Reference: /work/shared/reference/tencent-im-push.md §1.6, §5. No secrets ever appear here:
// the context carries only public facts (quota, time zone, region, SDKAppID).
import { redactSecrets } from './redact.js';

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

export interface ExplainContext {
  dailyQuota?: number;
  quotaTimezone?: string;
  region?: string;
  sdkAppId?: number;
}

/** Codes where sending the same request again (same MsgRandom) can help right away. */
export const RETRYABLE_CODES: ReadonlySet<number> = new Set([
  91000, 60007, 60008, 60011, 60013, 60014, 60018, 60019, 70169, 70202, 70500,
]);

interface Ctx {
  dailyQuota: number;
  quotaTimezone: string;
  region: string | undefined;
  sdkAppId: number | undefined;
}

type Entry = { title: string; what: string; action: string; retry?: RetryAdvice };
type EntryFn = (c: Ctx) => Entry;

const DEV = 'This is a bug in how the request is built; tell the engineers (include the error code).';
const SUPPORT = 'Open a ticket with Tencent Cloud support for this SDKAppID.';

function appRef(c: Ctx): string {
  return c.sdkAppId !== undefined ? `SDKAppID ${c.sdkAppId}` : 'the SDKAppID (TIM_SDKAPPID)';
}

function regionRef(c: Ctx): string {
  return c.region ? `the configured region “${c.region}”` : 'the configured region';
}

function regionFix(c: Ctx): string {
  return (
    `Check that TIM_SDKAPPID is right and that TIM_REGION (or TIM_BASE_URL) points to the data center where ${appRef(c)} was created; ` +
    `it is currently ${regionRef(c)}. Apps created in Singapore, Seoul, Frankfurt, Silicon Valley, Jakarta or Tokyo must use that region's domain, not the Chinese mainland one.`
  );
}

function keyFix(c: Ctx): string {
  return `Copy the secret key for ${appRef(c)} from the Tencent Cloud IM console (App configuration › Basic information) into TIM_SECRET_KEY and restart the app.`;
}

const ENTRIES: Record<number, Entry | EntryFn> = {
  // ---- im_push specific (§1.6)
  90001: { title: 'Request was not valid JSON', what: 'Tencent could not parse the push request as JSON.', action: DEV },
  90002: {
    title: 'Message content is malformed',
    what: 'The message content (MsgBody) does not match Tencent’s message format, or it is not a list of message parts (at most one custom element).',
    action: 'Fix the message content (text or custom element) and submit the broadcast again. If it was built by the app, tell the engineers.',
  },
  90004: {
    title: 'Message sequence number is invalid',
    what: 'The message sequence number (MsgSeq) is not a number or is out of range (old API revision).',
    action: DEV,
  },
  90005: {
    title: 'MsgRandom is missing or invalid',
    what: 'The random message number (MsgRandom) is missing or is not a whole number from 0 to 4294967295.',
    action: DEV,
  },
  90007: { title: 'Message content is not a list', what: 'The message content (MsgBody) must be a list of message parts.', action: DEV },
  90009: {
    title: 'Sender is not an app admin',
    what: 'The account used to call Tencent (TIM_ADMIN) is not an app admin account, and pushing to all members needs admin permission.',
    action:
      'Set TIM_ADMIN to an account listed under App admins in the Tencent Cloud IM console (often “administrator”), or add the account there. The UserSig is generated for that account automatically.',
  },
  90010: {
    title: 'Request format is invalid',
    what: 'The push request does not match Tencent’s message format (for example a bad audience condition or notification settings).',
    action: 'Check the audience and notification settings of the broadcast, fix them and submit it again.',
  },
  90018: {
    title: 'Too many accounts in one request',
    what: 'The request lists more accounts than Tencent allows in one call (tag and attribute APIs).',
    action: 'Split the accounts into smaller batches (at most 100 per call). ' + DEV,
  },
  90020: {
    title: 'A tag is too long',
    what: 'A tag in the audience is longer than 50 bytes (UTF-8, so about 16 Chinese characters).',
    action: 'Shorten the tag and submit the broadcast again.',
  },
  90022: {
    title: 'Same tag in both tag lists',
    what: 'A tag appears both in “all of these tags” (TagsAnd) and in “any of these tags” (TagsOr).',
    action: 'Remove the tag from one of the two lists and submit again.',
  },
  90024: {
    title: 'Pushes too close together',
    what: 'Tencent requires more than 1 second between two pushes, and this one came too soon after the previous push.',
    action: 'Wait a couple of seconds and send again; the app does this automatically.',
    retry: 'wait',
  },
  90026: {
    title: 'Offline storage time out of range',
    what: 'The offline storage time (MsgLifeTime) must be a whole number of seconds from 0 to 604800 (7 days).',
    action: 'Pick an offline storage time of at most 7 days and submit again.',
  },
  90032: {
    title: 'Too many tags',
    what: 'The audience has more than 10 tags in one list (TagsAnd or TagsOr).',
    action: 'Use at most 10 tags per list, then submit again.',
  },
  90033: {
    title: 'Invalid attribute',
    what: 'An attribute in the audience is not valid: its name is not one of the app’s attribute names, or a name or value is empty or too long.',
    action: 'Use only attribute names set up for the app (the audience picker lists them) with non-empty values, then submit again.',
  },
  90039: {
    title: 'Tags and attributes mixed',
    what: 'The audience uses tags and attributes together; Tencent allows only one kind per push.',
    action: 'Target either by tags or by attributes, then submit again.',
  },
  90040: {
    title: 'Empty tag',
    what: 'A tag in the audience is empty.',
    action: 'Remove the empty tag and submit again.',
  },
  90045: (c) => ({
    title: 'All-member push is not enabled',
    what: `All-member push (push to all users / by tag / by attribute) is not enabled for ${appRef(c)}. It needs a higher edition — called Flagship (旗舰版) on cloud.tencent.com, Ultimate or 进阶版 on tencentcloud.com, Pro / Pro Plus / Enterprise on trtc.io — and the feature switched on.`,
    action:
      'Ask the Tencent Cloud account owner to (1) buy or upgrade to that edition, then (2) turn on Console › Feature configuration › Login and message › All-member push settings (功能配置 › 登录与消息 › 全员推送设置). Older apps apply by ticket; it can take up to 48 hours after approval to take effect. Downgrading the edition turns the feature off again.',
  }),
  90047: (c) => ({
    title: 'Daily push quota used up',
    what: `Tencent allows ${c.dailyQuota} pushes per day for this app (all, tag and attribute pushes together), and today’s quota is used up.`,
    action: `Do not retry today: the quota resets at midnight ${c.quotaTimezone} time. Send the broadcast after the reset, or ask the Tencent Cloud account owner to buy extra daily quota via a support ticket (it is billed per extra push per day).`,
  }),
  90049: {
    title: 'Unknown push task',
    what: 'Tencent has no push record for the given TaskId (recall and statistics only work for tasks it created).',
    action: 'Check the TaskId. Note that im_push tasks cannot be recalled; only tasks from Tencent’s newer Push service can.',
  },
  90050: {
    title: 'Already recalled',
    what: 'This push task was already recalled; it cannot be recalled twice.',
    action: 'Nothing to do: the earlier recall stands.',
  },
  90051: {
    title: 'Recalls too frequent',
    what: 'Tencent allows at most 1 recall per second.',
    action: 'Wait a moment and try the recall again.',
    retry: 'wait',
  },
  90052: {
    title: 'Too late to recall',
    what: 'A push can only be recalled within 24 hours of sending, and this one is older.',
    action: 'It cannot be recalled. Consider sending a correction broadcast.',
  },
  90053: {
    title: 'Recall needs notification settings',
    what: 'This push task was not stored for roaming/unread, so the recall must carry notification settings (OfflinePushInfo) and it did not.',
    action: DEV,
  },
  90056: {
    title: 'Push request too large',
    what: 'The push request body is larger than Tencent’s 10 KB limit.',
    action: 'Shorten the message or the notification payload and submit again.',
  },
  91000: {
    title: 'Tencent internal error',
    what: 'Tencent reported an internal server error while handling the push.',
    action: 'The app retries the same request automatically (it cannot be delivered twice). If it keeps failing, check the Tencent Cloud status page and try later.',
    retry: 'yes',
  },
  20002: (c) => ({
    title: 'Internal authentication failed',
    what: 'Tencent could not authenticate the request internally (UserSig not accepted).',
    action: keyFix(c) + ' Also check TIM_ADMIN and TIM_SDKAPPID.',
  }),

  // ---- REST layer, 600xx (§5.1)
  60002: { title: 'Request URL not understood', what: 'Tencent could not parse the HTTP request (bad URL or query parameters).', action: DEV },
  60003: { title: 'Request JSON not understood', what: 'Tencent could not parse the request JSON.', action: DEV },
  60004: (c) => ({
    title: 'Account or UserSig is wrong',
    what: 'The admin account (identifier) or its UserSig in the request is wrong.',
    action: `${keyFix(c)} Check that TIM_ADMIN is an app admin account.`,
  }),
  60005: (c) => ({
    title: 'Account or UserSig is wrong',
    what: 'The admin account (identifier) or its UserSig in the request is wrong.',
    action: `${keyFix(c)} Check that TIM_ADMIN is an app admin account.`,
  }),
  60006: (c) => ({
    title: 'SDKAppID is invalid',
    what: `Tencent does not accept ${appRef(c)}.`,
    action: regionFix(c),
  }),
  60007: {
    title: 'Too many API calls',
    what: 'The app called Tencent’s REST API more often than allowed.',
    action: 'The app backs off and retries automatically. If it persists, check for other systems using the same SDKAppID.',
    retry: 'yes',
  },
  60008: {
    title: 'Tencent service timed out',
    what: 'Tencent’s service timed out while handling the request (or the HTTP request was malformed).',
    action: 'The app retries the same request automatically (it cannot be delivered twice). If it keeps happening, check the Tencent console push records before requesting again.',
    retry: 'yes',
  },
  60009: { title: 'Wrong API path', what: 'The request went to a URL path Tencent does not know.', action: DEV + ' Also check TIM_BASE_URL.' },
  60010: {
    title: 'Sender is not an app admin',
    what: 'The request needs an app admin account, and TIM_ADMIN is not one.',
    action: 'Set TIM_ADMIN to an account listed under App admins in the Tencent Cloud IM console, or add it there.',
  },
  60011: {
    title: 'Too many calls for this app',
    what: 'This SDKAppID called Tencent more often than allowed.',
    action: 'The app backs off and retries automatically.',
    retry: 'yes',
  },
  60012: { title: 'SDKAppID missing', what: 'The request URL does not carry the SDKAppID.', action: DEV + ' Check that TIM_SDKAPPID is set.' },
  60013: {
    title: 'Tencent reply not understood',
    what: 'Tencent failed to parse a response internally (response JSON error).',
    action: 'The app retries automatically.',
    retry: 'yes',
  },
  60014: {
    title: 'Account exchange timed out',
    what: 'Tencent timed out while checking the admin account.',
    action: 'The app retries automatically.',
    retry: 'yes',
  },
  60015: { title: 'Account field has the wrong type', what: 'An account field in the request is not text.', action: DEV },
  60016: (c) => ({ title: 'SDKAppID disabled', what: `Tencent has disabled ${appRef(c)}.`, action: SUPPORT }),
  60017: { title: 'Request disabled', what: 'Tencent has disabled this kind of request for the app.', action: SUPPORT },
  60018: {
    title: 'Too many requests',
    what: 'Requests are coming too fast for Tencent.',
    action: 'The app backs off and retries automatically.',
    retry: 'yes',
  },
  60019: {
    title: 'Too many requests',
    what: 'Requests are coming too fast for Tencent.',
    action: 'The app backs off and retries automatically.',
    retry: 'yes',
  },
  60020: {
    title: 'Paid package expired',
    what: 'The app’s paid package (edition) has expired or is suspended.',
    action: 'Ask the Tencent Cloud account owner to renew or repurchase the package; it takes effect about 5 minutes later.',
  },
  60021: {
    title: 'Server IP address not allowed',
    what: 'Tencent refused the call because this server’s IP address is not on the app’s REST API IP allowlist.',
    action: 'Add this server’s public IP address to the IP allowlist in the Tencent Cloud IM console, or remove the allowlist.',
  },
  80001: {
    title: 'Blocked by content security',
    what: 'Tencent’s content security check blocked the text of the message.',
    action: 'Reword the message (remove sensitive words) and submit a new broadcast.',
  },
  80002: {
    title: 'Message too long',
    what: 'The message content is longer than Tencent’s 8000-byte limit (UTF-8: a Chinese character takes 3 bytes).',
    action: 'Shorten the message and submit again.',
  },

  // ---- Account / signature, 700xx–71000 (§5.2)
  70001: (c) => ({
    title: 'UserSig expired',
    what: 'The signature (UserSig) the app made for the admin account has expired.',
    action: `The app makes a fresh UserSig automatically; if this repeats, the server clock is probably wrong (sync it with NTP). ${keyFix(c)}`,
  }),
  70002: { title: 'UserSig missing', what: 'The request carried an empty signature (UserSig).', action: DEV },
  70003: (c) => ({
    title: 'UserSig could not be read',
    what: 'Tencent could not decode the signature (UserSig); it may be truncated or not made for this app.',
    action: `${keyFix(c)} Check that TIM_SDKAPPID and TIM_ADMIN are right.`,
  }),
  70005: (c) => ({
    title: 'UserSig check failed',
    what: 'Tencent rejected the signature (UserSig).',
    action: `${keyFix(c)} Check that TIM_SDKAPPID and TIM_ADMIN are right.`,
  }),
  70009: (c) => ({
    title: 'Wrong secret key',
    what: `The signature (UserSig) was made with a key that does not belong to ${appRef(c)}.`,
    action: `${keyFix(c)} Make sure the key and TIM_SDKAPPID come from the same app.`,
  }),
  70013: {
    title: 'UserSig made for another account',
    what: 'The account in the request (identifier) differs from the account the signature (UserSig) was made for.',
    action: 'Check TIM_ADMIN: the app signs for that account; restart after changing it. Make sure it is an app admin account.',
  },
  70014: (c) => ({
    title: 'UserSig made for another app',
    what: 'The SDKAppID in the request differs from the SDKAppID inside the signature (UserSig).',
    action: `Check TIM_SDKAPPID (now ${appRef(c)}) and that TIM_SECRET_KEY is the key of that same app.`,
  }),
  70016: (c) => ({
    title: 'App key not found (region?)',
    what: `Tencent found no key for ${appRef(c)} in the data center it was asked (${regionRef(c)}).`,
    action: regionFix(c),
  }),
  70020: (c) => ({
    title: 'SDKAppID not found',
    what: `Tencent does not know ${appRef(c)} in ${regionRef(c)}.`,
    action: regionFix(c),
  }),
  70050: {
    title: 'Locked after failed sign-ins',
    what: 'Too many signature checks failed, so Tencent locked the admin account for about 1 minute.',
    action: 'Wait at least 1 minute. Fix the credentials first (TIM_SECRET_KEY, TIM_SDKAPPID, TIM_ADMIN), or it will lock again.',
    retry: 'wait',
  },
  70051: {
    title: 'Admin account blocklisted',
    what: 'The admin account (TIM_ADMIN) is on Tencent’s blocklist.',
    action: 'Use another admin account or remove it from the blocklist in the console. ' + SUPPORT,
  },
  70052: (c) => ({
    title: 'UserSig invalidated',
    what: 'The signature (UserSig) was invalidated (for example after the key was reset).',
    action: `Restart the app so it signs again. ${keyFix(c)}`,
  }),
  70107: {
    title: 'Account does not exist',
    what: 'An account in the request (e.g. the sender From_Account or TIM_ADMIN) does not exist in the app.',
    action: 'Use an existing account (import it first) or leave the sender empty to send as the app admin.',
  },
  70114: { title: 'Restricted for security', what: 'Tencent restricted the request for security reasons.', action: SUPPORT },
  70169: {
    title: 'Tencent internal timeout',
    what: 'Tencent timed out internally while checking the account.',
    action: 'The app retries automatically.',
    retry: 'yes',
  },
  70202: {
    title: 'Tencent internal timeout',
    what: 'Tencent timed out internally while checking the account.',
    action: 'The app retries automatically.',
    retry: 'yes',
  },
  70206: { title: 'Invalid batch size', what: 'The number of accounts in a batch request is invalid.', action: DEV },
  70398: {
    title: 'Account limit of the free edition',
    what: 'The app has more accounts than the free trial edition allows.',
    action: 'Ask the Tencent Cloud account owner to upgrade the edition.',
  },
  70402: {
    title: 'Invalid parameter',
    what: 'A required field in the account request is missing or invalid.',
    action: DEV,
  },
  70403: {
    title: 'Sender is not an app admin',
    what: 'The request needs app admin permission and TIM_ADMIN is not an admin account.',
    action: 'Set TIM_ADMIN to an account listed under App admins in the Tencent Cloud IM console, or add it there.',
  },
  70500: {
    title: 'Tencent internal error',
    what: 'Tencent reported an internal server error in the account service.',
    action: 'The app retries automatically.',
    retry: 'yes',
  },
  71000: {
    title: 'Account deletion not allowed',
    what: 'Deleting accounts is only allowed on the trial edition.',
    action: 'Not relevant to pushes; tell the engineers if you see this.',
  },
};

/** Every code with a dedicated explanation. */
export const EXPLAINED_CODES: readonly number[] = Object.keys(ENTRIES).map(Number);

function resolveCtx(ctx: ExplainContext | undefined): Ctx {
  return {
    dailyQuota: ctx?.dailyQuota ?? 100,
    quotaTimezone: ctx?.quotaTimezone ?? 'Asia/Shanghai',
    region: ctx?.region,
    sdkAppId: ctx?.sdkAppId,
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
    action: `Look up error code ${code} in the Tencent Cloud IM error code list (REST API error codes) and tell the engineers. The push did not go out.`,
    retry: 'no',
  };
}

/**
 * Network failures have no Tencent code. 'not_sent' is provably harmless; 'unknown' is not:
 * the request may have been received, so nobody may approve or send a new push blindly.
 */
export function explainTransportFailure(kind: 'not_sent' | 'unknown', reason: string): ErrorExplanation {
  const why = redactSecrets(reason);
  if (kind === 'not_sent') {
    return {
      code: null,
      title: 'Could not reach Tencent',
      what: `The request never left this server (${why}), so nothing was pushed.`,
      action:
        'It is safe to try again. If it keeps failing, check the network/DNS/firewall of this server and the TIM_REGION / TIM_BASE_URL setting.',
      retry: 'yes',
    };
  }
  return {
    code: null,
    title: 'Outcome unknown',
    what: `The request was sent but no usable answer came back (${why}). The push MAY have gone out.`,
    action:
      'Check the push records in the Tencent Cloud IM console before requesting again; do not re-approve blindly.',
    retry: 'no',
  };
}
