/**
 * The long fault campaign: `npm run chaos -- --trials 1000 --seed 42` (defaults: 200 trials, a seed
 * from the clock, printed so the run can be repeated). `--from N` starts at trial N (with
 * `--trials 1`, it replays trial N of that seed alone); `--quick` is the short profile of the test
 * suite; `--stop` stops at the first violation; `--json FILE` also writes the figures there;
 * `--report DIR` writes the details of every trial with a violation there.
 * Prints the figures as a table and as JSON; exits 1 when any check failed.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { QUICK, figuresTable, runCampaign } from './campaign.js';

function parse(argv: string[]): { trials: number; seed: number; from: number; stop: boolean; json?: string; report?: string; quiet: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      trials: { type: 'string' },
      seed: { type: 'string' },
      from: { type: 'string' },
      quick: { type: 'boolean', default: false },
      stop: { type: 'boolean', default: false },
      quiet: { type: 'boolean', default: false },
      json: { type: 'string' },
      report: { type: 'string' },
    },
    strict: true,
  });
  const whole = (name: string, v: string | undefined, def: number) => {
    if (v === undefined) return def;
    const n = Number(v);
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a whole number ≥ 0, got "${v}"`);
    return n;
  };
  const base = values.quick ? QUICK : { trials: 200, seed: Date.now() % 2 ** 31 };
  return {
    trials: whole('trials', values.trials, base.trials),
    seed: whole('seed', values.seed, base.seed),
    from: whole('from', values.from, 0),
    stop: values.stop,
    quiet: values.quiet,
    ...(values.json ? { json: values.json } : {}),
    ...(values.report ? { report: values.report } : {}),
  };
}

async function main(): Promise<void> {
  const o = parse(process.argv.slice(2));
  process.stdout.write(`chaos: ${o.trials} trial(s), seed ${o.seed}${o.from ? `, from trial ${o.from}` : ''}\n`);
  const figures = await runCampaign({
    trials: o.trials,
    seed: o.seed,
    from: o.from,
    stopOnViolation: o.stop,
    ...(o.report ? { reportDir: o.report } : {}),
    log: (line) => {
      if (!o.quiet || /VIOLATION|✗|plan of|^  br-/.test(line)) process.stdout.write(`${line}\n`);
    },
  });
  process.stdout.write(`\n${figuresTable(figures)}\n\n`);
  for (const v of figures.violations) process.stdout.write(`✗ trial ${v.trial} [${v.check}] ${v.requestId ?? ''} ${v.detail}\n`);
  const json = JSON.stringify(figures, null, 2);
  process.stdout.write(`${json}\n`);
  if (o.json) writeFileSync(o.json, json);
  process.exit(figures.violations.length ? 1 : 0);
}

main().catch((error: unknown) => {
  process.stderr.write(`chaos failed: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(2);
});
