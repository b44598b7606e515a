/**
 * Settings that fail safe: a copied .env.example names what is missing, a real region refuses a
 * sandbox-looking key, the sandbox needs no Tencent keys, and the new settings have their defaults.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseEnv } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ConfigError, DEMO_SECRET_KEY, SETTING_NAMES, isSandboxLookingKey, loadConfig, parseQuietHours } from '../../src/config.js';
import { generateSandboxCredentials, isSandboxKey } from '../../src/sandbox.js';

const ENV_EXAMPLE = readFileSync(resolve(import.meta.dirname, '../../.env.example'), 'utf8');
const example = () => parseEnv(ENV_EXAMPLE) as Record<string, string>;

/** The Slack settings a person fills in; with these the example file starts in the sandbox. */
const SLACK = {
  SLACK_BOT_TOKEN: 'xoxb-1-2-abc',
  SLACK_SIGNING_SECRET: 'a-signing-secret-0123456789',
  APPROVAL_CHANNEL_ID: 'C0APPROVALS',
  APPROVERS: 'U0APPROVER1',
};
const REAL_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).problems;
  }
  throw new Error('loadConfig accepted the settings');
}
const named = (problems: string[], setting: string) => problems.filter((p) => p.startsWith(`${setting} `));

describe('.env.example', () => {
  it('copied verbatim, fails at start naming every required setting, and only those', () => {
    const problems = problemsOf(example());
    for (const setting of ['SLACK_BOT_TOKEN', 'APPROVAL_CHANNEL_ID', 'APPROVERS']) {
      expect(named(problems, setting), `${setting} is named`).toEqual([`${setting} is required`]);
    }
    // HTTP mode or Socket Mode: one of the two Slack credentials.
    expect(named(problems, 'SLACK_SIGNING_SECRET').join()).toMatch(/required in HTTP mode.*SLACK_APP_TOKEN/);
    expect(problems, 'nothing else is wrong (the sandbox needs no Tencent keys)').toHaveLength(4);
  });

  it('ships with TIM_REGION=sandbox and starts once the Slack settings are filled in', () => {
    expect(example().TIM_REGION).toBe('sandbox');
    const config = loadConfig({ ...example(), ...SLACK });
    expect(config.TIM_REGION).toBe('sandbox');
  });

  it('lists every setting the app reads, each with a one-line comment right above it', () => {
    const lines = ENV_EXAMPLE.split('\n');
    for (const setting of SETTING_NAMES) {
      const at = lines.findIndex((l) => l.startsWith(`${setting}=`));
      expect(at, `${setting} is in .env.example`).toBeGreaterThan(0);
      expect(lines[at - 1], `${setting} has a comment`).toMatch(/^# \S/);
    }
    const listed = lines.filter((l) => /^[A-Z_]+=/.test(l)).map((l) => l.split('=')[0]);
    expect(new Set(listed), 'and nothing the app does not read').toEqual(new Set(SETTING_NAMES));
  });

  it('leaves the required values empty', () => {
    const env = example();
    for (const setting of ['SLACK_BOT_TOKEN', 'APPROVAL_CHANNEL_ID', 'APPROVERS', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'TIM_SDKAPPID', 'TIM_SECRET_KEY']) {
      expect(env[setting], setting).toBe('');
    }
  });
});

describe('Tencent keys', () => {
  const real = (key: string, extra: Record<string, string> = {}) => ({
    ...example(),
    ...SLACK,
    TIM_REGION: 'singapore',
    TIM_SDKAPPID: '1400123456',
    TIM_SECRET_KEY: key,
    ...extra,
  });

  it('a real region with the documented demo key is refused, naming TIM_SECRET_KEY without echoing it', () => {
    const problems = problemsOf(real(DEMO_SECRET_KEY));
    expect(named(problems, 'TIM_SECRET_KEY').join()).toMatch(/placeholder, demo or sandbox key.*singapore.*TIM_REGION=sandbox/);
    expect(problems.join('\n')).not.toContain(DEMO_SECRET_KEY);
  });

  it.each([
    ['placeholder text', 'your-secret-key'],
    ['a key the sandbox generated', generateSandboxCredentials().secretKey],
    ['the demo key in capitals', DEMO_SECRET_KEY.toUpperCase()],
    ['changeme', 'changeme'],
  ])('a real region refuses %s', (_what, key) => {
    expect(named(problemsOf(real(key)), 'TIM_SECRET_KEY')).toHaveLength(1);
  });

  it('a real region with an empty key or SDKAppID names both as required', () => {
    const problems = problemsOf(real('', { TIM_SDKAPPID: '' }));
    expect(named(problems, 'TIM_SECRET_KEY').join()).toMatch(/is required/);
    expect(named(problems, 'TIM_SDKAPPID').join()).toMatch(/is required/);
  });

  it('a real region with a real-looking key is accepted (the refusals are not vacuous)', () => {
    const config = loadConfig(real(REAL_KEY));
    expect(config.TIM_REGION).toBe('singapore');
    expect(config.TIM_SDKAPPID).toBe(1400123456);
    expect(config.TIM_SECRET_KEY).toBe(REAL_KEY);
  });

  it('a loopback TIM_BASE_URL (a local emulator) may use any key', () => {
    expect(loadConfig(real(DEMO_SECRET_KEY, { TIM_BASE_URL: 'http://127.0.0.1:9000' })).TIM_SECRET_KEY).toBe(DEMO_SECRET_KEY);
    expect(named(problemsOf(real(DEMO_SECRET_KEY, { TIM_BASE_URL: 'https://proxy.example.com' })), 'TIM_SECRET_KEY')).toHaveLength(1);
  });

  it('the sandbox needs no Tencent keys, ignores given ones and generates recognisable credentials', () => {
    const a = loadConfig({ ...SLACK, TIM_REGION: 'sandbox' });
    const b = loadConfig({ ...SLACK, TIM_REGION: 'sandbox', TIM_SDKAPPID: '1400123456', TIM_SECRET_KEY: REAL_KEY });
    for (const c of [a, b]) {
      expect(isSandboxKey(c.TIM_SECRET_KEY)).toBe(true);
      expect(isSandboxLookingKey(c.TIM_SECRET_KEY)).toBe(true);
      expect(c.TIM_SDKAPPID).toBeGreaterThanOrEqual(1_400_000_000);
    }
    expect(b.TIM_SECRET_KEY, 'a real key is never used by the sandbox').not.toBe(REAL_KEY);
    expect(a.TIM_SECRET_KEY, 'fresh for each start').not.toBe(b.TIM_SECRET_KEY);
  });

  it('the sandbox refuses a TIM_BASE_URL, clearly', () => {
    const problems = problemsOf({ ...SLACK, TIM_REGION: 'sandbox', TIM_BASE_URL: 'http://127.0.0.1:9000' });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^TIM_BASE_URL must be empty with TIM_REGION=sandbox/);
  });
});

describe('new settings', () => {
  it('have their defaults', () => {
    const c = loadConfig({ ...SLACK, TIM_REGION: 'sandbox' });
    expect({
      REQUEST_TTL_SECONDS: c.REQUEST_TTL_SECONDS,
      EVERYONE_APPROVALS: c.EVERYONE_APPROVALS,
      TARGETED_APPROVALS: c.TARGETED_APPROVALS,
      SCHEDULE_MAX_LATE_SECONDS: c.SCHEDULE_MAX_LATE_SECONDS,
      QUIET_HOURS: c.QUIET_HOURS,
      PUSH_LEASE_SECONDS: c.PUSH_LEASE_SECONDS,
      SHUTDOWN_TIMEOUT_SECONDS: c.SHUTDOWN_TIMEOUT_SECONDS,
      LOG_FORMAT: c.LOG_FORMAT,
    }).toEqual({
      REQUEST_TTL_SECONDS: 86400,
      EVERYONE_APPROVALS: 1,
      TARGETED_APPROVALS: 1,
      SCHEDULE_MAX_LATE_SECONDS: 3600,
      QUIET_HOURS: undefined,
      PUSH_LEASE_SECONDS: 30,
      SHUTDOWN_TIMEOUT_SECONDS: 25,
      LOG_FORMAT: 'json',
    });
    expect(c.INSTANCE_ID).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
  });

  it('take valid values', () => {
    const c = loadConfig({
      ...SLACK,
      TIM_REGION: 'sandbox',
      REQUEST_TTL_SECONDS: '60',
      EVERYONE_APPROVALS: '2',
      TARGETED_APPROVALS: '10',
      QUIET_HOURS: '22:00-08:30',
      PUSH_LEASE_SECONDS: '2',
      SHUTDOWN_TIMEOUT_SECONDS: '1',
      LOG_FORMAT: 'pretty',
      INSTANCE_ID: 'web-1',
    });
    expect(c.QUIET_HOURS).toEqual({ startMinute: 22 * 60, endMinute: 8 * 60 + 30 });
    expect([c.REQUEST_TTL_SECONDS, c.EVERYONE_APPROVALS, c.TARGETED_APPROVALS, c.PUSH_LEASE_SECONDS, c.SHUTDOWN_TIMEOUT_SECONDS]).toEqual([60, 2, 10, 2, 1]);
    expect([c.LOG_FORMAT, c.INSTANCE_ID]).toEqual(['pretty', 'web-1']);
  });

  it.each([
    ['REQUEST_TTL_SECONDS', '0'],
    ['EVERYONE_APPROVALS', '0'],
    ['EVERYONE_APPROVALS', '11'],
    ['TARGETED_APPROVALS', '1.5'],
    ['PUSH_LEASE_SECONDS', '1'],
    ['SHUTDOWN_TIMEOUT_SECONDS', 'soon'],
    ['LOG_FORMAT', 'xml'],
    ['INSTANCE_ID', 'has spaces'],
    ['QUIET_HOURS', '22:00-22:00'],
    ['QUIET_HOURS', '24:00-08:00'],
    ['QUIET_HOURS', '8:00-9:00'],
    ['QUIET_HOURS', '22:00'],
  ])('refuse %s=%s, naming it', (setting, value) => {
    const problems = problemsOf({ ...SLACK, TIM_REGION: 'sandbox', [setting]: value });
    expect(problems.map((p) => p.split(' ')[0])).toEqual([setting]);
  });

  it('quiet hours may wrap midnight or sit within a day', () => {
    expect(parseQuietHours('23:30-00:15')).toEqual({ startMinute: 1410, endMinute: 15 });
    expect(parseQuietHours('12:00-13:00')).toEqual({ startMinute: 720, endMinute: 780 });
    expect(parseQuietHours(' 00:00-23:59 ')).toEqual({ startMinute: 0, endMinute: 1439 });
    expect(parseQuietHours('12:00-12:00')).toBeUndefined();
  });
});
