/**
 * Seeded pseudo-random numbers, so that the same seed and input give the same output. Not for
 * cryptography. Two generators, each kept because runs are reproducible from --seed and switching
 * one stage to the other would change that stage's output for a given seed:
 *  - `Rng` (k-means: sampling, seeding, batch order): xoshiro128** (Blackman and Vigna) on 32-bit
 *    integers, its state filled from the seed by splitmix32 steps; floats carry 53 random bits.
 *  - `Xorshift128` (cover: reservoir sample, stochastic greedy choices): xorshift128 (Marsaglia
 *    2003), its state filled by a 32-bit linear congruential step; floats carry 32 random bits.
 * Both derive floats, integers and shuffles the same way from their `next`.
 * `mulberry32` is a lighter stream of floats (PQ training, search verification samples, IVF).
 */
abstract class Seeded {
  /** Next 32-bit unsigned integer. */
  abstract nextU32(): number;

  /** Uniform in [0, 1). */
  abstract next(): number;

  /** Uniform in (0, 1]: never 0, for logarithms and divisions. */
  nextOpen(): number {
    return 1 - this.next();
  }

  /** Uniform integer in [0, n) (n up to the float's random bits: 2^53 for Rng, 2^32 for Xorshift128). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Shuffles `a` in place (Fisher-Yates). */
  shuffle(a: Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i]!;
      a[i] = a[j]!;
      a[j] = t;
    }
  }
}

/** xoshiro128** with 53-bit floats (k-means). */
export class Rng extends Seeded {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    super();
    let s = (Math.floor(Math.abs(seed)) >>> 0) ^ 0x9e3779b9;
    const next = (): number => {
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.a = 1;
  }

  nextU32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  next(): number {
    const hi = this.nextU32() >>> 5;
    const lo = this.nextU32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** An independent generator for part `i` of a job (e.g. one cell), fixed by this seed and i. */
  fork(i: number): Rng {
    return new Rng((this.a ^ Math.imul(i + 1, 0x27d4eb2f)) >>> 0);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** xorshift128 with 32-bit floats (cover). */
export class Xorshift128 extends Seeded {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
    super();
    // Fill the state from the seed with a 32-bit linear congruential step (Numerical Recipes
    // constants), then let xorshift mix it; the state is never all zero.
    let s = Math.floor(seed) >>> 0;
    const next = () => {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      return s ^ (s >>> 16);
    };
    this.x = next();
    this.y = next();
    this.z = next();
    this.w = next() | 1;
    for (let i = 0; i < 8; i++) this.nextU32();
  }

  nextU32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n) for n >= 1 (n up to 2^53: two draws when n > 2^32). */
  below(n: number): number {
    if (n <= 4294967296) return this.int(n);
    return Math.floor((this.nextU32() * 4294967296 + this.nextU32()) / 18446744073709551616 * n);
  }
}

/**
 * mulberry32: uniform [0, 1) floats with 32 random bits from a 32-bit state. Each caller derives
 * the starting state from its seed in its own way (so its samples stay what they were).
 */
export function mulberry32(state: number): () => number {
  let a = state >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
