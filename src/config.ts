import { z } from 'zod';
import { isValidTimeZone } from './broadcast/quota.js';
import { defaultInstanceId } from './logger.js';
import { generateSandboxCredentials, isSandboxKey } from './sandbox.js';
import { REGION_NAMES, type RegionName } from './tim/regions.js';

// Every setting the app reads, validated once at start. A wrong or missing one stops the
// app with a message naming it, before anything connects anywhere. Settings fail safe: a
// copied .env.example names what is missing, and a real region refuses a sandbox-looking key.

/** The region that sends every push to an emulator inside the app, never to Tencent. */
export const SANDBOX_REGION = 'sandbox';
export type TimRegion = RegionName | typeof SANDBOX_REGION;

/** Tencent's published demo key (docs and tls-sig-api-v2 samples): never a real application's. */
export const DEMO_SECRET_KEY = '5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e';
// Placeholder text people leave in a copied config: "your-secret-key", "changeme", "xxxx"...
const PLACEHOLDER_KEY = /^(?:your\b.*|<.*>|change[-_ ]?me|placeholder|secret(?:[-_ ]?key)?|test(?:[-_ ]?key)?|demo(?:[-_ ]?key)?|example|any[-_ ]?key|x+|\.\.\.)$/i;

/** Empty, placeholder text, the demo key or a key the sandbox generated. */
export function isSandboxLookingKey(key: string | undefined): boolean {
  const k = key?.trim() ?? '';
  return k === '' || PLACEHOLDER_KEY.test(k) || k.toLowerCase() === DEMO_SECRET_KEY || isSandboxKey(k);
}

/** Quiet hours as minutes after midnight in QUOTA_TIMEZONE; end < start means the window wraps midnight. */
export interface QuietHours {
  startMinute: number;
  endMinute: number;
}

const CLOCK_RANGE = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/;

/** Parse `HH:MM-HH:MM` (24-hour clock); undefined for malformed or zero-length windows. */
export function parseQuietHours(text: string): QuietHours | undefined {
  const m = CLOCK_RANGE.exec(text.trim());
  if (!m) return undefined;
  const startMinute = Number(m[1]) * 60 + Number(m[2]);
  const endMinute = Number(m[3]) * 60 + Number(m[4]);
  return startMinute === endMinute ? undefined : { startMinute, endMinute };
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const optionalString = z.preprocess(blankToUndefined, z.string().trim().optional());
/** A required setting: missing and empty both read "is required". */
const requiredString = () => z.string({ error: 'is required' }).trim();
const required = <T extends z.ZodType>(schema: T) => z.preprocess(blankToUndefined, schema);
const intWithDefault = (def: number, min: number, max: number) =>
  z.preprocess(
    (v) => (v === undefined || (typeof v === 'string' && v.trim() === '') ? def : Number(v)),
    z.number({ error: 'must be a whole number' }).int('must be a whole number').min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const idList = (pattern: RegExp, what: string) =>
  requiredString()
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(pattern, { error: (issue) => `"${String(issue.input)}" is not ${what}` }))
        .min(1, 'must name at least one approver'),
    );

const TIM_REGIONS: [TimRegion, ...TimRegion[]] = [SANDBOX_REGION, ...REGION_NAMES];
const LOOPBACK_HOST = /^(?:127(?:\.\d{1,3}){3}|localhost|\[::1\])$/i;

const Settings = z.object({
  // --- Slack
  SLACK_BOT_TOKEN: required(requiredString().regex(/^xoxb-/, 'must be a bot token starting with xoxb-')),
  SLACK_SIGNING_SECRET: optionalString,
  SLACK_APP_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xapp-'), 'must be an app-level token starting with xapp-'),
  SLACK_API_URL: optionalString.pipe(httpUrl.optional()),
  PORT: intWithDefault(3000, 0, 65535),
  // --- approvals
  APPROVAL_CHANNEL_ID: required(requiredString().regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID like C0123456789')),
  APPROVERS: required(idList(/^[UWS][A-Z0-9]{2,}$/, 'a Slack user ID (U…/W…) or user group ID (S…)')),
  APPROVERS_CACHE_SECONDS: intWithDefault(300, 0, 86400),
  EVERYONE_APPROVALS: intWithDefault(1, 1, 10),
  TARGETED_APPROVALS: intWithDefault(1, 1, 10),
  REQUEST_TTL_SECONDS: intWithDefault(86400, 1, 31_536_000),
  SCHEDULE_MAX_LATE_SECONDS: intWithDefault(3600, 0, 604_800),
  QUIET_HOURS: optionalString.transform((v, ctx) => {
    if (v === undefined) return undefined;
    const parsed = parseQuietHours(v);
    if (!parsed) {
      ctx.addIssue({ code: 'custom', message: 'must be HH:MM-HH:MM on a 24-hour clock, start and end different, e.g. 22:00-08:00' });
      return z.NEVER;
    }
    return parsed;
  }),
  // --- Tencent Cloud IM (checked together below: the sandbox needs none of the keys)
  TIM_SDKAPPID: optionalString,
  TIM_SECRET_KEY: optionalString,
  TIM_ADMIN: optionalString.default('administrator'),
  TIM_REGION: optionalString.default('chinese-mainland').pipe(z.enum(TIM_REGIONS, { error: `must be one of ${TIM_REGIONS.join(', ')}` })),
  TIM_BASE_URL: optionalString.pipe(httpUrl.optional()),
  TIM_TIMEOUT_MS: intWithDefault(10000, 3500, 120000),
  PUSH_MAX_ATTEMPTS: intWithDefault(4, 1, 10),
  PUSH_LEASE_SECONDS: intWithDefault(30, 2, 3600),
  // --- store and quota
  STORE_URL: optionalString.default('sqlite://data/tim-broadcast.sqlite').refine(
    (v) => /^(sqlite:\/\/.+|memory:\/\/|rediss?:\/\/.+)$/.test(v),
    'must be sqlite://<path>, memory:// or redis://host:port',
  ),
  DAILY_QUOTA: intWithDefault(100, 1, 1_000_000),
  QUOTA_TIMEZONE: optionalString.default('Asia/Shanghai').refine(isValidTimeZone, 'must be an IANA time zone like Asia/Shanghai'),
  // --- running
  LOG_LEVEL: optionalString.default('info').pipe(z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })),
  LOG_FORMAT: optionalString.default('json').pipe(z.enum(['json', 'pretty'], { error: 'must be json or pretty' })),
  INSTANCE_ID: optionalString
    .refine((v) => v === undefined || /^[A-Za-z0-9._:@-]{1,128}$/.test(v), 'must be 1–128 letters, digits or . _ : @ -')
    .transform((v) => v ?? defaultInstanceId()),
  SHUTDOWN_TIMEOUT_SECONDS: intWithDefault(25, 1, 3600),
});

/** Every setting the app reads (each is listed, with its one-line comment, in .env.example). */
export const SETTING_NAMES = Object.keys(Settings.shape) as readonly (keyof typeof Settings.shape)[];

const EnvSchema = Settings
  // `when`: these run even if other settings are wrong, so that every problem is named at once.
  .superRefine(
    (env, ctx) => {
      if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
        ctx.addIssue({
          code: 'custom',
          path: ['SLACK_SIGNING_SECRET'],
          message: 'is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
        });
      }
      checkTencent(env, ctx);
    },
    { when: (payload) => typeof payload.value === 'object' && payload.value !== null },
  )
  .transform((env) => {
    if (env.TIM_REGION === SANDBOX_REGION) {
      // The sandbox signs with credentials of its own, so a real key is never used (or sent) in it.
      const generated = generateSandboxCredentials();
      return { ...env, TIM_SDKAPPID: generated.sdkAppId, TIM_SECRET_KEY: generated.secretKey };
    }
    return { ...env, TIM_SDKAPPID: Number(env.TIM_SDKAPPID), TIM_SECRET_KEY: env.TIM_SECRET_KEY! };
  });

type RawEnv = Record<string, unknown> & {
  TIM_REGION?: unknown;
  TIM_SDKAPPID?: string;
  TIM_SECRET_KEY?: string;
  TIM_BASE_URL?: string;
};

function checkTencent(env: RawEnv, ctx: z.RefinementCtx): void {
  const region = env.TIM_REGION;
  if (region === SANDBOX_REGION) {
    if (env.TIM_BASE_URL) {
      ctx.addIssue({
        code: 'custom',
        path: ['TIM_BASE_URL'],
        message: 'must be empty with TIM_REGION=sandbox (the sandbox runs its own push emulator; to use another server, pick its region)',
      });
    }
    return;
  }
  if (typeof region !== 'string' || !(REGION_NAMES as readonly string[]).includes(region)) return; // named by the enum
  const id = env.TIM_SDKAPPID;
  if (id === undefined) {
    ctx.addIssue({ code: 'custom', path: ['TIM_SDKAPPID'], message: 'is required (the SDKAppID from the IM console), or set TIM_REGION=sandbox' });
  } else if (!/^\d+$/.test(id) || !Number.isSafeInteger(Number(id)) || Number(id) <= 0) {
    ctx.addIssue({ code: 'custom', path: ['TIM_SDKAPPID'], message: 'must be a positive whole number (the SDKAppID from the IM console)' });
  }
  // A local emulator (loopback TIM_BASE_URL) may be signed with any key: nothing leaves the machine.
  const local = env.TIM_BASE_URL !== undefined && URL.canParse(env.TIM_BASE_URL) && LOOPBACK_HOST.test(new URL(env.TIM_BASE_URL).hostname);
  const key = env.TIM_SECRET_KEY;
  if (key === undefined) {
    ctx.addIssue({ code: 'custom', path: ['TIM_SECRET_KEY'], message: 'is required (the key from the IM console), or set TIM_REGION=sandbox' });
  } else if (!local && isSandboxLookingKey(key)) {
    ctx.addIssue({
      code: 'custom',
      path: ['TIM_SECRET_KEY'],
      message: `looks like a placeholder, demo or sandbox key, which cannot be used with the real region ${region}: set the key from the IM console, or set TIM_REGION=sandbox`,
    });
  }
}

export type Config = z.infer<typeof EnvSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`tim-broadcast cannot start; fix these settings (see .env.example):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Read and validate the settings; throws ConfigError naming every problem at once. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = EnvSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  // Values are never echoed: some of them are secrets.
  const problems = parsed.error.issues.map((issue) => `${String(issue.path[0] ?? 'settings')} ${issue.message}`);
  throw new ConfigError([...new Set(problems)]);
}
