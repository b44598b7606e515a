/**
 * A seeded pseudo-random generator for the fault campaign. Written here rather than taken from a
 * library because it is ten lines (mulberry32) and Math.random cannot be seeded: a failing trial
 * must replay from its seed. Each trial draws from its own generator, derived from (seed, trial),
 * so `--seed S --from N --trials 1` replays trial N's choices alone.
 */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** The generator of one trial of a campaign. */
  static forTrial(seed: number, trial: number): Rng {
    // Mix the two numbers (a Murmur3 finaliser) so that neighbouring trials do not start alike.
    let h = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(trial + 1, 0x85ebca77)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    return new Rng((h ^ (h >>> 16)) >>> 0);
  }

  /** [0, 1) — mulberry32. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** A whole number in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** One of the items, each with its weight. */
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let x = this.next() * total;
    for (const [item, w] of items) {
      if ((x -= w) < 0) return item;
    }
    return items[items.length - 1]![0];
  }
}
