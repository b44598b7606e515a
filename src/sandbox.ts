// TIM_REGION=sandbox: the push emulator (src/tim/emulator.ts) runs inside the app on 127.0.0.1
// with credentials generated at start, and every push goes there. Nothing reaches Tencent, so
// nothing reaches real users; Slack is still real, so people can try the whole flow.
import { randomBytes, randomInt } from 'node:crypto';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { PushEmulator } from './tim/emulator.js';
import { resolveBaseUrl } from './tim/regions.js';

/** Every key the sandbox generates starts with this, so a real region can recognise and refuse one. */
export const SANDBOX_KEY_PREFIX = 'sandbox-';

export function isSandboxKey(key: string): boolean {
  return key.startsWith(SANDBOX_KEY_PREFIX);
}

/** Fresh credentials for one run of the sandbox (the SDKAppID looks like Tencent's 1400… ids). */
export function generateSandboxCredentials(): { sdkAppId: number; secretKey: string } {
  return { sdkAppId: 1_400_000_000 + randomInt(0, 1_000_000), secretKey: `${SANDBOX_KEY_PREFIX}${randomBytes(24).toString('hex')}` };
}

export interface Sandbox {
  /** Loopback origin of the in-process emulator, e.g. http://127.0.0.1:40123. */
  readonly baseUrl: string;
  readonly emulator: PushEmulator;
  close(): Promise<void>;
}

/** Start the in-process emulator when TIM_REGION=sandbox; undefined for a real region. */
export async function startSandbox(config: Config, logger?: Logger): Promise<Sandbox | undefined> {
  if (config.TIM_REGION !== 'sandbox') return undefined;
  // Loaded only in the sandbox.
  const { PushEmulator } = await import('./tim/emulator.js');
  const emulator = await PushEmulator.start({
    sdkAppId: config.TIM_SDKAPPID,
    secretKey: config.TIM_SECRET_KEY,
    admin: config.TIM_ADMIN,
    dailyQuota: config.DAILY_QUOTA,
    quotaTimezone: config.QUOTA_TIMEZONE,
    host: '127.0.0.1',
    port: 0,
    // One line per push the sandbox answered: path, code and TaskId only (the entry carries no secret).
    onRequest: (e) => logger?.info('sandbox push emulator answered', { sandbox: true, ...e }),
  });
  let closed: Promise<void> | undefined;
  return {
    baseUrl: emulator.url,
    emulator,
    close: () => (closed ??= emulator.close()),
  };
}

/** Where pushes go: the sandbox's emulator, else TIM_BASE_URL, else the region's domain. */
export function pushBaseUrl(config: Config, sandbox: Sandbox | undefined): string {
  if (sandbox) return sandbox.baseUrl;
  if (config.TIM_REGION === 'sandbox') throw new Error('TIM_REGION=sandbox but the sandbox emulator is not running');
  return resolveBaseUrl({ region: config.TIM_REGION, ...(config.TIM_BASE_URL ? { baseUrl: config.TIM_BASE_URL } : {}) });
}

/** The start-up line of sandbox mode, so nobody mistakes it for the real thing. */
export function logSandboxStart(logger: Logger, config: Config, sandbox: Sandbox): void {
  logger.warn('SANDBOX MODE: every push goes to the push emulator inside this process; nothing reaches Tencent or real users', {
    sandbox: true,
    emulator: sandbox.baseUrl,
    sdkAppId: config.TIM_SDKAPPID,
    note: 'TIM_SDKAPPID and TIM_SECRET_KEY are generated for this run; set TIM_REGION to a real region to push for real',
  });
}
