// Figures, targets, the printed table and bench/results.json.

/** Nearest-rank percentile (p in 0..100) of the finite values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const rank = Math.min(v.length, Math.max(1, Math.ceil((p / 100) * v.length)));
  return v[rank - 1]!;
}

export const median = (values: readonly number[]) => percentile(values, 50);

/** What a figure must satisfy: `of` names the field compared with `max`. */
export interface Target {
  of: 'ratio' | 'app' | 'overhead_ms';
  max: number;
  text: string;
}

export const ratioAtMost = (max: number): Target => ({ of: 'ratio', max, text: `≤ ${max}×` });
export const appAtMost = (max: number, text = `≤ ${max}`): Target => ({ of: 'app', max, text });
export const overheadAtMost = (max: number): Target => ({ of: 'overhead_ms', max, text: `≤ +${max} ms` });

export interface Figure {
  id: string;
  label: string;
  unit: string;
  /** The app (or, for history figures, the app with the long history). */
  app: number | null;
  /** The baseline (bare Bolt, the bare POST floor, or the app with the short history). */
  baseline: number | null;
  /** What the baseline column is. */
  baseline_is: string;
  /** app ÷ baseline */
  ratio: number | null;
  /** app − baseline, for approve → push */
  overhead_ms?: number | null;
  samples?: { app?: number; baseline?: number };
  target?: Target;
  ok?: boolean | null;
  note?: string;
}

const finite = (n: number | null | undefined): n is number => typeof n === 'number' && Number.isFinite(n);

export class Figures {
  readonly list: Figure[] = [];

  add(f: Omit<Figure, 'ratio' | 'ok'> & { ratio?: number | null }): Figure {
    const ratio = f.ratio !== undefined ? f.ratio : finite(f.app) && finite(f.baseline) && f.baseline > 0 ? f.app / f.baseline : null;
    const fig: Figure = { ...f, ratio: finite(ratio) ? round(ratio, 3) : null, app: roundOrNull(f.app), baseline: roundOrNull(f.baseline) };
    if (f.overhead_ms !== undefined) fig.overhead_ms = roundOrNull(f.overhead_ms);
    if (f.target) {
      const v = fig[f.target.of];
      fig.ok = finite(v) ? v <= f.target.max : null;
    }
    this.list.push(fig);
    return fig;
  }

  skip(id: string, label: string, note: string, target?: Target): void {
    this.list.push({ id, label, unit: '', app: null, baseline: null, baseline_is: '', ratio: null, ...(target ? { target } : {}), ok: null, note });
  }
}

function round(n: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
function roundOrNull(n: number | null | undefined): number | null {
  return finite(n) ? round(n, Math.abs(n) >= 100 ? 1 : 3) : null;
}

function show(n: number | null | undefined, unit = ''): string {
  if (!finite(n)) return '–';
  const digits = Number.isInteger(n) || Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return `${n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })}${unit ? ` ${unit}` : ''}`;
}

/** The table as Markdown (printed, and pasted into bench/README.md). */
export function table(figures: readonly Figure[]): string {
  const rows = [
    ['figure', 'app', 'baseline', 'ratio', 'target', 'ok?'],
    ['---', '---:', '---:', '---:', '---', '---'],
  ];
  for (const f of figures) {
    if (f.note && f.app === null && f.baseline === null) {
      rows.push([f.label, '–', '–', '–', f.target?.text ?? '', `skipped: ${f.note}`]);
      continue;
    }
    const baseline = f.baseline === null ? '–' : `${show(f.baseline, f.unit)} (${f.baseline_is})`;
    const ratio = f.target?.of === 'overhead_ms' ? `+${show(f.overhead_ms, 'ms')}` : f.ratio === null ? '–' : `${show(f.ratio)}×`;
    const ok = f.ok === undefined ? '' : f.ok === null ? '?' : f.ok ? 'yes' : '**no**';
    rows.push([f.label, show(f.app, f.unit), baseline, ratio, f.target?.text ?? '', ok + (f.note ? ` (${f.note})` : '')]);
  }
  return rows.map((r) => `| ${r.join(' | ')} |`).join('\n');
}
