// `npm run emulator`: the local push emulator, configured from the environment (and ./.env).
// Logs one line per request with the code and TaskId only; never the key, sig or URL.
import { existsSync } from 'node:fs';
import { PushEmulator, type EmulatorLogEntry } from './emulator.js';

function fatal(message: string): never {
  console.error(`Emulator not started: ${message}`);
  process.exit(1);
}

function intFromEnv(name: string, fallback: number, min: number, max: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) fatal(`${name} must be a whole number from ${min} to ${max}.`);
  return n;
}

function logLine(e: EmulatorLogEntry): string {
  const outcome = e.code === null ? 'no answer' : e.code === 0 ? 'OK' : `FAIL ${e.code}`;
  const parts = [new Date().toISOString(), e.path, outcome];
  if (e.taskId) parts.push(`TaskId=${e.taskId}`);
  if (e.fault) parts.push(`(injected fault: ${e.fault})`);
  return parts.join(' ');
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const secretKey = process.env.TIM_SECRET_KEY?.trim();
  if (!process.env.TIM_SDKAPPID?.trim()) fatal('TIM_SDKAPPID is not set (the app ID, e.g. 1400000000). Set it in the environment or .env.');
  if (!secretKey) fatal('TIM_SECRET_KEY is not set (any test key; clients must sign with the same key). Set it in the environment or .env.');
  const sdkAppId = intFromEnv('TIM_SDKAPPID', 0, 1, Number.MAX_SAFE_INTEGER);
  const port = intFromEnv('EMULATOR_PORT', 9000, 0, 65535);
  const host = process.env.EMULATOR_HOST?.trim() || '127.0.0.1';

  const emulator = await PushEmulator.start({
    sdkAppId,
    secretKey,
    admin: process.env.TIM_ADMIN?.trim() || 'administrator',
    dailyQuota: intFromEnv('EMULATOR_DAILY_QUOTA', 100, 0, 1_000_000),
    // Tencent documents MsgRandom de-duplication "within the same second"; 604800 mimics the old 7-day reading.
    dedupWindowMs: intFromEnv('EMULATOR_DEDUP_WINDOW_SECONDS', 1, 0, 604_800) * 1000,
    registeredUsers: intFromEnv('EMULATOR_REGISTERED_USERS', 12345, 0, Number.MAX_SAFE_INTEGER),
    host,
    port,
    onRequest: (e) => console.log(logLine(e)),
  });
  console.log(`TIM push emulator listening; set TIM_BASE_URL=${emulator.url}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal} received; stopping the emulator.`);
    emulator.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  // Only the error's kind and code: a message could echo configuration.
  const code = (err as { code?: unknown })?.code;
  if (code === 'EADDRINUSE') fatal('the port is already in use; set EMULATOR_PORT to a free port.');
  fatal(`${err instanceof Error ? err.name : 'error'}${typeof code === 'string' ? ` (${code})` : ''}`);
});
