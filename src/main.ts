import { existsSync } from 'node:fs';
import { buildApp, type RunningApp } from './app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { createLogger, loggerSettings, type Logger } from './logger.js';

// Start tim-broadcast: settings from the environment (and ./.env when present), then run until
// SIGTERM/SIGINT, and stop within SHUTDOWN_TIMEOUT_SECONDS whatever happens.

/** A push whose result is known but could not be written to the store, in words. */
interface UnrecordedResult {
  requestId: string;
  outcome: string;
}

function unrecordedOf(running: RunningApp, abandon: boolean): UnrecordedResult[] {
  const list = abandon ? running.abandon() : running.service.unrecordedResults();
  return list.map(({ requestId, outcome }) => ({
    requestId,
    outcome: outcome.kind === 'sent' ? `sent, TaskId ${outcome.taskId}` : outcome.kind === 'failed' ? `failed, code ${outcome.code ?? 'none'}` : 'unknown',
  }));
}

/** Straight to stderr (synchronous for files, pipes and terminals), for people and for log collectors alike. */
function tellStderr(line: string): void {
  process.stderr.write(`tim-broadcast: ${line}\n`);
}

function reportUnrecorded(log: Logger, unrecorded: UnrecordedResult[]): void {
  for (const u of unrecorded) {
    log.error('a push result could not be recorded', { requestId: u.requestId, outcome: u.outcome });
    tellStderr(`request ${u.requestId}: the push ended "${u.outcome}" but this could not be recorded in the store; the card may not show it.`);
  }
}

/** This instance's requests whose push is still out, read from the store (bounded: the budget is nearly spent). */
async function stillSending(running: RunningApp, withinMs: number): Promise<string[] | undefined> {
  const me = running.service.instanceId;
  const read = running.service.queries.open(100).then(
    (requests) => requests.filter((r) => r.state === 'sending' && r.lease?.owner === me).map((r) => r.id),
    () => undefined,
  );
  const late = new Promise<undefined>((resolve) => setTimeout(resolve, withinMs, undefined));
  return Promise.race([read, late]);
}

function handleShutdown(running: RunningApp, config: Config): (signal: NodeJS.Signals) => void {
  const log = running.logger;
  const budgetMs = config.SHUTDOWN_TIMEOUT_SECONDS * 1000;
  // The report at the deadline reads the store; keep room for it inside the budget.
  const reportMs = Math.min(1000, budgetMs / 4);
  let stopping = false;
  let gaveUp = false;

  const giveUp = async () => {
    gaveUp = true;
    const sending = await stillSending(running, reportMs);
    log.error('shutdown budget ran out; exiting with work unfinished', {
      budgetSeconds: config.SHUTDOWN_TIMEOUT_SECONDS,
      stillSending: sending ?? 'the store did not answer',
    });
    for (const id of sending ?? []) {
      // With a shared store (Redis) this may name a push of another instance; either way it is not re-sent.
      tellStderr(
        `request ${id}: its push was still in flight when the shutdown budget (${config.SHUTDOWN_TIMEOUT_SECONDS} s) ran out; ` +
          'its lease runs out and it is reported as outcome unknown, never re-sent. Check the Tencent IM console.',
      );
    }
    if (!sending) tellStderr('the shutdown budget ran out and the store did not say which pushes were still in flight.');
    reportUnrecorded(log, unrecordedOf(running, true));
    process.exit(1);
  };

  return (signal) => {
    if (stopping) {
      // npm and a terminal's Ctrl-C both deliver the same signal again: one shutdown is enough.
      log.info('already shutting down', { signal });
      return;
    }
    stopping = true;
    log.info('shutting down: taking no new work, finishing pushes in flight', { signal, budgetSeconds: config.SHUTDOWN_TIMEOUT_SECONDS });
    // Not unref'd: if stop() waited on something that keeps nothing else alive, the process would
    // otherwise drain away with status 0 and no word; this timer guarantees the report and status 1.
    const deadline = setTimeout(() => void giveUp(), budgetMs - reportMs);
    running.stop().then(
      () => {
        if (gaveUp) return;
        clearTimeout(deadline);
        const unrecorded = unrecordedOf(running, false);
        reportUnrecorded(log, unrecorded);
        process.exit(unrecorded.length ? 1 : 0);
      },
      (error: unknown) => {
        if (gaveUp) return;
        clearTimeout(deadline);
        log.error('shutdown failed', { error });
        tellStderr(`shutdown failed: ${(error as Error)?.name ?? 'error'}; see the log.`);
        process.exit(1);
      },
    );
  };
}

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  // Until the app exists, a logger from the settings alone; then the app's (which also redacts UserSigs).
  let log: Logger = createLogger(loggerSettings(config));
  process.on('unhandledRejection', (reason) => {
    // A forgotten promise is a bug, not a reason to drop the pushes in flight: log it and keep running.
    log.error('unhandled promise rejection (still running)', { error: reason });
  });
  process.on('uncaughtException', (error, origin) => {
    // The process state is unknown now; the line is written synchronously, then exit. A push that
    // was in flight is reported as outcome unknown at the next start, never re-sent.
    log.error('uncaught exception; exiting', { error, stack: error?.stack, origin });
    process.exit(1);
  });
  let onSignal: (signal: NodeJS.Signals) => void = (signal) => {
    log.info('signal before start-up finished; exiting', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', (s) => onSignal(s));
  process.on('SIGINT', (s) => onSignal(s));

  const running = await buildApp(config);
  log = running.logger;
  onSignal = handleShutdown(running, config);
  await running.start();
}

main().catch((error: unknown) => {
  process.stderr.write(`tim-broadcast failed to start: ${(error as Error)?.message ?? String(error)}\n`);
  process.exit(1);
});
