import { describe, expect, it } from 'vitest';
import {
  EXPLAINED_CODES,
  OUTCOME_UNKNOWN_CODES,
  RATE_LIMIT_CODES,
  RETRYABLE_CODES,
  explainError,
  explainTransportFailure,
  mergeExplainContext,
  type ExplainContext,
} from '../../src/tim/errors.js';

/** Every code in the reference (§1.6, §5; getappinfo's own codes) and a word its explanation must mention. */
const SUBJECTS: Record<number, RegExp> = {
  90001: /JSON/, 90002: /message content|MsgBody/, 90004: /MsgSeq|sequence/, 90005: /MsgRandom/, 90007: /list/,
  90009: /admin/, 90010: /format/, 90018: /accounts/, 90020: /50 bytes/, 90022: /both/, 90024: /1 second/,
  90026: /7 days|604800/, 90032: /10 tags/, 90033: /attribute/, 90039: /tags and attributes/, 90040: /empty/,
  90045: /not enabled/, 90047: /quota/, 90049: /TaskId/, 90050: /recalled/, 90051: /recall/, 90052: /24 hours/,
  90053: /OfflinePushInfo/, 90056: /10 KB/, 91000: /internal/, 20002: /authenticat/,
  60002: /HTTP|URL/, 60003: /JSON/, 60004: /UserSig/, 60005: /UserSig/, 60006: /SDKAppID/, 60007: /often/,
  60008: /timed out/, 60009: /path/, 60010: /admin/, 60011: /often/, 60012: /SDKAppID/, 60013: /response/,
  60014: /timed out/, 60015: /text/, 60016: /disabled/, 60017: /disabled/, 60018: /too fast/, 60019: /too fast/,
  60020: /package/, 60021: /IP address/, 80001: /content security/, 80002: /8000/,
  70001: /expired/, 70002: /empty/, 70003: /decode/, 70005: /UserSig/, 70009: /key/, 70013: /account/,
  70014: /SDKAppID/, 70016: /region/, 70020: /SDKAppID/, 70050: /1 minute/, 70051: /blocklist/, 70052: /invalidated/,
  70107: /exist/, 70114: /security/, 70169: /timed out/, 70202: /timed out/, 70206: /batch/, 70398: /trial/,
  70402: /field/, 70403: /admin/, 70500: /internal/, 71000: /trial/,
  130001: /JSON/, 130009: /database/, 130010: /database/, 130011: /database/, 130012: /database/,
};
const REFERENCE_CODES = Object.keys(SUBJECTS).map(Number);
const SINGAPORE: ExplainContext = { sdkAppId: 1400000000, domain: 'adminapisgp.im.qcloud.com', admin: 'administrator' };
/** Setting names that must not appear where the app knows the values. */
const SETTING_NAME = /TIM_[A-Z_]+|EMULATOR_[A-Z_]+|PUSH_[A-Z_]+/;

describe('explainError', () => {
  it.each(REFERENCE_CODES)('%i has a plain explanation of its subject', (code) => {
    const e = explainError(code);
    expect(e.code).toBe(code);
    expect(e.title).not.toBe('');
    expect(e.what.length).toBeGreaterThan(15);
    expect(e.action.length).toBeGreaterThan(15);
    expect(e.title).not.toMatch(/^Tencent error \d+$/); // not the unknown-code fallback
    expect(`${e.what} ${e.action}`).toMatch(new RegExp(SUBJECTS[code]!.source, 'i'));
  });

  it('covers exactly the reference codes', () => {
    expect([...EXPLAINED_CODES].sort()).toEqual([...REFERENCE_CODES].sort());
  });

  it('each explanation is short: one sentence of what happened, one of what to do', () => {
    for (const code of REFERENCE_CODES) {
      const e = explainError(code, undefined, SINGAPORE);
      expect([code, e.what.length < 220, e.action.length < 420]).toEqual([code, true, true]);
    }
  });

  it('90045 names the SDKAppID, the editions, the console switch and the 48 h delay; no setting names', () => {
    const { what, action, retry } = explainError(90045, '', SINGAPORE);
    const text = `${what} ${action}`;
    for (const word of ['SDKAppID 1400000000', 'Flagship', 'Ultimate', 'Pro', 'Feature configuration › Login and message › All-member push settings', '48 hours']) {
      expect(text).toContain(word);
    }
    expect(text).not.toMatch(SETTING_NAME);
    expect(retry).toBe('no');
  });

  it('90047 names the SDKAppID, the quota, its reset and the ticket; no setting names', () => {
    const d = explainError(90047);
    expect(`${d.what} ${d.action}`).toMatch(/all 100 pushes of today[\s\S]*midnight Asia\/Shanghai[\s\S]*ticket/);
    expect(d.retry).toBe('no');
    const c = explainError(90047, undefined, { ...SINGAPORE, dailyQuota: 300, quotaTimezone: 'Europe/Berlin' });
    const text = `${c.what} ${c.action}`;
    expect(text).toMatch(/SDKAppID 1400000000 has used all 300 pushes of today[\s\S]*midnight Europe\/Berlin/);
    expect(text).not.toMatch(SETTING_NAME);
  });

  it.each([70016, 70020, 60006])('%i names the SDKAppID and the domain it called, not the settings', (code) => {
    const e = explainError(code, undefined, SINGAPORE);
    const text = `${e.what} ${e.action}`;
    expect(e.what).toContain('SDKAppID 1400000000');
    expect(e.what).toContain('adminapisgp.im.qcloud.com (Singapore)');
    expect(e.action).toMatch(/data center where SDKAppID 1400000000 was created/);
    expect(text).not.toMatch(SETTING_NAME);
  });

  it('70016 names a base URL host that is not a Tencent domain as it is', () => {
    const e = explainError(70016, undefined, { sdkAppId: 1400000000, domain: '127.0.0.1:9000' });
    expect(e.what).toBe('Tencent found no key for SDKAppID 1400000000 at 127.0.0.1:9000.');
  });

  it('70020 derives the domain from the region name when only the region is known', () => {
    const e = explainError(70020, undefined, { sdkAppId: 1400000000, region: 'seoul' });
    expect(e.what).toContain('adminapikr.im.qcloud.com (Seoul)');
  });

  it('falls back to the setting names only when the values are not known', () => {
    const e = explainError(70016);
    expect(`${e.what} ${e.action}`).toContain('TIM_SDKAPPID');
    expect(e.what).toContain('TIM_REGION / TIM_BASE_URL');
  });

  it.each([
    [70001, ['clock', 'TIM_SECRET_KEY', 'SDKAppID 1400000000']],
    [70003, ['TIM_SECRET_KEY', 'SDKAppID 1400000000', '“administrator”']],
    [70009, ['TIM_SECRET_KEY', 'SDKAppID 1400000000', 'Basic information']],
    [70013, ['“administrator”']],
    [70014, ['SDKAppID 1400000000', 'TIM_SECRET_KEY']],
    [90009, ['“administrator”', 'App admins', 'SDKAppID 1400000000']],
    [60010, ['“administrator”', 'App admins']],
  ] as const)('%i names the real values and says how to fix the credentials', (code, words) => {
    const e = explainError(code, undefined, SINGAPORE);
    const text = `${e.what} ${e.action}`;
    for (const w of words) expect(text).toContain(w);
    // The secret key cannot be shown, so its setting is named; the others are shown as values.
    expect(text).not.toMatch(/TIM_SDKAPPID|TIM_REGION|TIM_ADMIN|TIM_BASE_URL/);
  });

  it('explains an unknown code with the code and Tencent’s words', () => {
    const e = explainError(12345, 'something odd happened');
    expect(e.code).toBe(12345);
    expect(e.title).toContain('12345');
    expect(e.what).toContain('12345');
    expect(e.what).toContain('something odd happened');
    expect(e.action).toContain('12345');
  });

  it('adds Tencent’s ErrorInfo to a known code but never a URL or UserSig', () => {
    const sig = 'eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ';
    const e = explainError(70009, `sig check failed for https://console.tim.qq.com/v4/x?usersig=${sig}&a=1, sig ${sig}`);
    expect(e.what).toContain('Tencent said');
    expect(e.what).not.toContain(sig.slice(0, 30));
    expect(e.what).not.toContain('console.tim.qq.com');
  });
});

describe('retry advice', () => {
  const yes = [91000];
  // 90051 (recall limit, 1/s) and 70050 (lock-out) are 'wait' but not retried automatically.
  const wait = [90024, 60007, 60011, 60018, 60019, 70050, 90051];

  it.each(yes)('%i → yes', (code) => expect(explainError(code).retry).toBe('yes'));
  it.each(wait)('%i → wait', (code) => expect(explainError(code).retry).toBe('wait'));

  it('everything else in the reference → no (never retry the quota or an ambiguous code)', () => {
    const others = REFERENCE_CODES.filter((c) => !yes.includes(c) && !wait.includes(c));
    expect(others).toContain(90047);
    expect(others).toContain(60008);
    for (const code of others) expect([code, explainError(code).retry]).toEqual([code, 'no']);
  });

  it('RETRYABLE_CODES is 91000 and the rate limits: the refusals documented as "not done, retry"', () => {
    expect([...RATE_LIMIT_CODES].sort()).toEqual([60007, 60011, 60018, 60019, 90024]);
    expect([...RETRYABLE_CODES].sort()).toEqual([60007, 60011, 60018, 60019, 90024, 91000]);
  });

  it('OUTCOME_UNKNOWN_CODES are the timeouts and internal failures behind the gateway, none retryable', () => {
    expect([...OUTCOME_UNKNOWN_CODES].sort()).toEqual([60008, 60013, 60014, 70169, 70202, 70500]);
    for (const code of OUTCOME_UNKNOWN_CODES) {
      expect(RETRYABLE_CODES.has(code)).toBe(false);
      const e = explainError(code, undefined, SINGAPORE);
      expect(e.what).toMatch(/may still have been (created|carried out)/);
      expect(e.action).toContain('does not send it again');
      expect(e.action).toContain('SDKAppID 1400000000');
    }
  });
});

describe('mergeExplainContext', () => {
  it('later contexts win, but undefined never hides a known value', () => {
    expect(mergeExplainContext({ sdkAppId: 1, dailyQuota: 5 }, undefined, { dailyQuota: 7, sdkAppId: undefined })).toEqual({ sdkAppId: 1, dailyQuota: 7 });
  });
});

describe('explainTransportFailure', () => {
  it('not_sent: nothing went out, safe to retry; names the domain it could not reach', () => {
    const e = explainTransportFailure('not_sent', 'connection refused (ECONNREFUSED)', SINGAPORE);
    expect(e).toMatchObject({ code: null, retry: 'yes' });
    expect(e.what).toContain('never left');
    expect(e.what).toContain('ECONNREFUSED');
    expect(e.action).toContain('adminapisgp.im.qcloud.com (Singapore)');
    expect(e.action).not.toMatch(SETTING_NAME);
  });

  it('unknown: may have gone out, not sent again, check the console for the SDKAppID first', () => {
    const e = explainTransportFailure('unknown', 'no answer within the response timeout', SINGAPORE);
    expect(e).toMatchObject({ code: null, retry: 'no', title: 'Outcome unknown' });
    expect(e.what).toContain('MAY have gone out');
    expect(e.action).toMatch(/does not send it again.*push records of SDKAppID 1400000000.*Tencent Cloud IM console.*before requesting it again/);
  });

  it('scrubs URLs from the reason', () => {
    const e = explainTransportFailure('unknown', 'failed at https://console.tim.qq.com/v4/all_member_push/im_push?usersig=abc');
    expect(e.what).not.toContain('usersig=abc');
    expect(e.what).not.toContain('console.tim.qq.com');
  });
});
