import { seededRandom } from '../helpers/dump-fixture';

/** Seeded choices for the fuzz campaigns: the same seed makes the same inputs on every machine. */
export class Rng {
  private readonly next01: () => number;
  constructor(seed: number) {
    this.next01 = seededRandom(seed);
  }
  next(): number {
    return this.next01();
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}
