import { z } from 'zod';
import { isValidTimeZone } from './broadcast/time.js';
import { REGION_NAMES, type RegionName } from './tim/regions.js';

// Every setting the app reads, validated once at start. A wrong or missing one stops the
// app with a message naming it, before anything connects anywhere.

const optionalString = z.preprocess((v) => (typeof v === 'string' && v.trim() === '' ? undefined : v), z.string().trim().optional());
const intWithDefault = (def: number, min: number, max: number) =>
  z.preprocess(
    (v) => (v === undefined || (typeof v === 'string' && v.trim() === '') ? def : Number(v)),
    z.number().int(`must be a whole number`).min(min, `must be at least ${min}`).max(max, `must be at most ${max}`),
  );
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });

const idList = (pattern: RegExp, what: string) =>
  z
    .string({ error: 'is required' })
    .transform((s) => s.split(/[\s,]+/).filter(Boolean))
    .pipe(
      z
        .array(z.string().regex(pattern, { error: (issue) => `"${String(issue.input)}" is not ${what}` }))
        .min(1, 'must name at least one approver'),
    );

const EnvSchema = z
  .object({
    SLACK_BOT_TOKEN: z.string({ error: 'is required' }).regex(/^xoxb-/, 'must be a bot token starting with xoxb-'),
    SLACK_SIGNING_SECRET: optionalString,
    SLACK_APP_TOKEN: optionalString.refine((v) => v === undefined || v.startsWith('xapp-'), 'must be an app-level token starting with xapp-'),
    SLACK_API_URL: optionalString.pipe(httpUrl.optional()),
    PORT: intWithDefault(3000, 0, 65535),
    APPROVAL_CHANNEL_ID: z.string({ error: 'is required' }).regex(/^[CG][A-Z0-9]{2,}$/, 'must be a channel ID like C0123456789'),
    APPROVERS: idList(/^[UWS][A-Z0-9]{2,}$/, 'a Slack user ID (U…/W…) or user group ID (S…)'),
    APPROVERS_CACHE_SECONDS: intWithDefault(300, 0, 86400),
    TIM_SDKAPPID: z.preprocess(
      (v) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
      z.number({ error: 'is required (the SDKAppID from the IM console)' }).int('must be a whole number').positive('must be positive'),
    ),
    TIM_SECRET_KEY: z.string({ error: 'is required (the key from the IM console)' }).min(1, 'is required'),
    TIM_ADMIN: optionalString.default('administrator'),
    TIM_REGION: optionalString.default('chinese-mainland').pipe(z.enum(REGION_NAMES as unknown as [RegionName, ...RegionName[]], {
      error: `must be one of ${REGION_NAMES.join(', ')}`,
    })),
    TIM_BASE_URL: optionalString.pipe(httpUrl.optional()),
    TIM_TIMEOUT_MS: intWithDefault(10000, 3500, 120000),
    PUSH_MAX_ATTEMPTS: intWithDefault(4, 1, 10),
    STORE_URL: optionalString.default('sqlite://data/tim-broadcast.sqlite').refine(
      (v) => /^(sqlite:\/\/.+|memory:\/\/|rediss?:\/\/.+)$/.test(v),
      'must be sqlite://<path>, memory:// or redis://host:port',
    ),
    DAILY_QUOTA: intWithDefault(100, 1, 1_000_000),
    QUOTA_TIMEZONE: optionalString.default('Asia/Shanghai').refine(isValidTimeZone, 'must be an IANA time zone like Asia/Shanghai'),
    REQUEST_TTL_SECONDS: intWithDefault(86400, 1, 90 * 86400),
    EVERYONE_APPROVALS: intWithDefault(1, 1, 10),
    TARGETED_APPROVALS: intWithDefault(1, 1, 10),
    SCHEDULE_MAX_LATE_SECONDS: intWithDefault(3600, 0, 30 * 86400),
    PUSH_LEASE_SECONDS: intWithDefault(30, 2, 3600),
    QUIET_HOURS: optionalString.transform((v, ctx) => {
      if (v === undefined) return undefined;
      const m = /^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-3]):([0-5]\d)$/.exec(v);
      if (!m) {
        ctx.addIssue({ code: 'custom', message: 'must be HH:MM-HH:MM, e.g. 22:00-08:00' });
        return z.NEVER;
      }
      const startMinute = Number(m[1]) * 60 + Number(m[2]);
      const endMinute = Number(m[3]) * 60 + Number(m[4]);
      if (startMinute === endMinute) {
        ctx.addIssue({ code: 'custom', message: 'must not start and end at the same time' });
        return z.NEVER;
      }
      return { startMinute, endMinute };
    }),
    INSTANCE_ID: optionalString,
    LOG_LEVEL: optionalString.default('info').pipe(z.enum(['debug', 'info', 'warn', 'error'], { error: 'must be debug, info, warn or error' })),
  })
  // `when`: runs even if other settings are wrong, so that every missing setting is named at once.
  .superRefine((env, ctx) => {
    if (!env.SLACK_APP_TOKEN && !env.SLACK_SIGNING_SECRET) {
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is required in HTTP mode (set it, or set SLACK_APP_TOKEN for Socket Mode)',
      });
    }
  }, { when: (payload) => typeof payload.value === 'object' && payload.value !== null });

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
