/**
 * A small seeded random source (mulberry32), so a failing reliability run can be replayed with the
 * seed it printed: `RELIABILITY_SEED=<seed> npm run test:reliability`.
 */
export interface SeededRandom {
  readonly seed: number;
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max]. */
  between(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
}

/** The seed from `RELIABILITY_SEED`, else a new one. */
export function seedFromEnv(): number {
  const given = process.env.RELIABILITY_SEED;
  if (given !== undefined && /^\d+$/.test(given)) return Number(given);
  return Math.floor(Math.random() * 2 ** 31);
}

export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  return {
    seed,
    next,
    between: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick(items) {
      if (items.length === 0) throw new Error("nothing to pick from");
      return items[Math.floor(next() * items.length)] as (typeof items)[number];
    },
  };
}
