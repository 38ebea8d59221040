/**
 * A small seeded generator (xorshift128, Marsaglia 2003) so that a cover run is reproducible from
 * --seed: the same seed and input give the same sample and the same choices.
 */
export class Random {
  private x: number;
  private y: number;
  private z: number;
  private w: number;

  constructor(seed: number) {
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

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const t = this.x ^ (this.x << 11);
    this.x = this.y;
    this.y = this.z;
    this.z = this.w;
    this.w = (this.w ^ (this.w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    return this.w;
  }

  /** A uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [0, n) for n >= 1 (n up to 2^53: two draws when n > 2^32). */
  below(n: number): number {
    if (n <= 4294967296) return Math.floor(this.next() * n);
    return Math.floor((this.nextU32() * 4294967296 + this.nextU32()) / 18446744073709551616 * n);
  }
}
