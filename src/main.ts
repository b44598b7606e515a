import { existsSync } from 'node:fs';
import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';

// Start tim-broadcast: settings from the environment (and ./.env when present).
async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const running = await buildApp(config);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    running.logger.info('shutting down; finishing pushes in flight', { signal });
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        running.logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
  await running.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`tim-broadcast failed to start: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
