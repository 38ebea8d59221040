/**
 * A set of words stored as 64-bit fingerprints (two independent 32-bit hashes) in an
 * open-addressing table of typed arrays: 8 bytes per slot, at most half full, so 16 bytes per
 * distinct word instead of the ~60-100 a Set of strings needs. Used to drop duplicate words on
 * every pass. Two different words share a fingerprint with probability about n^2 / 2^65
 * (2e-7 for 2M words). add: O(word length) expected.
 */
export class WordFingerprintSet {
  private hi: Uint32Array;
  private lo: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 16) {
    let n = 1 << 4;
    while (n < capacity * 2) n <<= 1;
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.mask = n - 1;
  }

  /** Adds the word; returns false if it was already present. */
  add(word: string): boolean {
    let h1 = 0x811c9dc5;
    let h2 = 0x9747b28c;
    for (let i = 0; i < word.length; i++) {
      const c = word.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, 0x01000193);
      h2 = Math.imul(h2 ^ c, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    h1 = fmix(h1 ^ word.length);
    h2 = fmix(h2 + 0x6b43a9b5) | 1; // never 0: 0 marks an empty slot
    if (this.insert(h1 >>> 0, h2 >>> 0)) {
      if (++this.size * 2 > this.mask) this.grow();
      return true;
    }
    return false;
  }

  private insert(a: number, b: number): boolean {
    let i = a & this.mask;
    for (;;) {
      const lo = this.lo[i]!;
      if (lo === 0) {
        this.hi[i] = a;
        this.lo[i] = b;
        return true;
      }
      if (lo === b && this.hi[i] === a) return false;
      i = (i + 1) & this.mask;
    }
  }

  private grow(): void {
    const { hi, lo } = this;
    this.hi = new Uint32Array(hi.length * 2);
    this.lo = new Uint32Array(lo.length * 2);
    this.mask = this.hi.length - 1;
    for (let i = 0; i < hi.length; i++) if (lo[i] !== 0) this.insert(hi[i]!, lo[i]!);
  }

  /** Bytes held. */
  get bytes(): number {
    return this.hi.length * 8;
  }
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}
