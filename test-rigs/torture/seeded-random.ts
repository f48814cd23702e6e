/**
 * Kill moments must be random but replayable: a failing run prints its seed, and
 * TORTURE_SEED=<seed> replays the same schedule. mulberry32: tiny, fast, good enough for timing.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function seedFromEnv(): number {
  const env = process.env.TORTURE_SEED;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isSafeInteger(n)) throw new RangeError(`TORTURE_SEED=${env} is not an integer`);
    return n;
  }
  return Math.floor(Math.random() * 2 ** 31);
}
