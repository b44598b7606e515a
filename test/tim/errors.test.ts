import { describe, expect, it } from 'vitest';
import { EXPLAINED_CODES, RETRYABLE_CODES, explainError, explainTransportFailure } from '../../src/tim/errors.js';

/** Every code in the reference (§1.6, §5) and a word its explanation must mention. */
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
};
const REFERENCE_CODES = Object.keys(SUBJECTS).map(Number);

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

  it('90045 names the editions, the console switch and the 48 h delay', () => {
    const { what, action, retry } = explainError(90045, '', { sdkAppId: 1400000000 });
    const text = `${what} ${action}`;
    for (const word of ['Flagship', 'Ultimate', 'Pro', '1400000000', 'Feature configuration › Login and message › All-member push settings', '48 hours']) {
      expect(text).toContain(word);
    }
    expect(retry).toBe('no');
  });

  it('90047 states the quota, its reset and the ticket, with defaults', () => {
    const d = explainError(90047);
    expect(`${d.what} ${d.action}`).toMatch(/100 pushes per day[\s\S]*midnight Asia\/Shanghai[\s\S]*ticket/);
    expect(d.retry).toBe('no');
    const c = explainError(90047, undefined, { dailyQuota: 300, quotaTimezone: 'Europe/Berlin' });
    expect(`${c.what} ${c.action}`).toMatch(/300 pushes per day[\s\S]*midnight Europe\/Berlin/);
  });

  it.each([
    [70001, ['TIM_SECRET_KEY', 'clock']],
    [70003, ['TIM_SECRET_KEY', 'TIM_SDKAPPID', 'TIM_ADMIN']],
    [70009, ['TIM_SECRET_KEY', 'TIM_SDKAPPID', '1400000000']],
    [70013, ['TIM_ADMIN']],
    [70014, ['TIM_SDKAPPID', 'TIM_SECRET_KEY']],
    [70016, ['TIM_REGION', 'TIM_BASE_URL', 'TIM_SDKAPPID', 'singapore']],
    [70020, ['TIM_REGION', 'TIM_BASE_URL', 'singapore']],
  ] as const)('%i says how to fix the credentials or region', (code, words) => {
    const e = explainError(code, undefined, { region: 'singapore', sdkAppId: 1400000000 });
    for (const w of words) expect(`${e.what} ${e.action}`).toContain(w);
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
  const yes = [91000, 60007, 60008, 60011, 60013, 60014, 60018, 60019, 70169, 70202, 70500];
  // 90051 (recall limit, 1/s) is also 'wait'; recall is not used by im_push.
  const wait = [90024, 70050, 90051];

  it.each(yes)('%i → yes', (code) => expect(explainError(code).retry).toBe('yes'));
  it.each(wait)('%i → wait', (code) => expect(explainError(code).retry).toBe('wait'));

  it('everything else in the reference → no (never retry the quota)', () => {
    const others = REFERENCE_CODES.filter((c) => !yes.includes(c) && !wait.includes(c));
    expect(others).toContain(90047);
    for (const code of others) expect([code, explainError(code).retry]).toEqual([code, 'no']);
  });

  it('RETRYABLE_CODES is exactly the “yes” codes', () => {
    expect([...RETRYABLE_CODES].sort()).toEqual([...yes].sort());
  });
});

describe('explainTransportFailure', () => {
  it('not_sent: nothing went out, safe to retry', () => {
    const e = explainTransportFailure('not_sent', 'connection refused (ECONNREFUSED)');
    expect(e).toMatchObject({ code: null, retry: 'yes' });
    expect(e.what).toContain('never left');
    expect(e.what).toContain('ECONNREFUSED');
  });

  it('unknown: may have gone out, check the console, do not re-approve blindly', () => {
    const e = explainTransportFailure('unknown', 'no answer within the response timeout');
    expect(e).toMatchObject({ code: null, retry: 'no' });
    expect(e.what).toContain('MAY have gone out');
    expect(e.action).toMatch(/push records.*console.*before requesting again.*do not re-approve blindly/);
  });

  it('scrubs URLs from the reason', () => {
    const e = explainTransportFailure('unknown', 'failed at https://console.tim.qq.com/v4/all_member_push/im_push?usersig=abc');
    expect(e.what).not.toContain('usersig=abc');
    expect(e.what).not.toContain('console.tim.qq.com');
  });
});
