import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

const TWO_POW_32 = 4294967296;
/** Raw outputs drawn per pass of the bulk loop (`Rng.fillRaw`): large enough to amortise, small enough for L1. */
const CHUNK = 4096;

/**
 * The project's one source of randomness. tfjs initialisers ignore their `seed`, so weight init,
 * shuffling, dropout masks and noise all draw from here; the same seed gives the same numbers on
 * every backend because nothing random is left to the backend.
 */
export class Rng {
  /** Replaced (never mutated from outside) when a bulk draw writes the advanced state back. */
  private generator: Generator;
  /** Scratch for the bulk draws, allocated on first use. */
  private scratch: Uint32Array | null = null;

  private constructor(generator: Generator) {
    this.generator = generator;
  }

  static fromSeed(seed: number): Rng {
    if (!Number.isInteger(seed)) throw new Error(`seed must be an integer, got ${seed}`);
    return new Rng(xoroshiro128plus(seed | 0));
  }

  /** The generator's whole state, to checkpoint a stream mid-run and resume it exactly (`fromState`). */
  state(): number[] {
    return [...this.generator.getState()];
  }

  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every(Number.isInteger)) throw new Error(`an Rng state is 4 integers, got [${state.join(', ')}]`);
    return new Rng(xoroshiro128plusFromState(state));
  }

  /**
   * An independent stream for one purpose (e.g. 'init', 'shuffle', 'dropout'), so that adding a draw
   * in one place does not shift the numbers every other place sees.
   */
  fork(label: string): Rng {
    let hash = 0x811c9dc5;
    for (let i = 0; i < label.length; i++) hash = Math.imul(hash ^ label.charCodeAt(i), 0x01000193);
    const child = this.generator.clone();
    child.jump();
    return new Rng(xoroshiro128plus((child.next() ^ hash) | 0));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return (this.generator.next() >>> 0) / TWO_POW_32;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Standard normal by Box–Muller (one of each pair is used: simplicity over speed here). */
  normal(): number {
    const u = 1 - this.uniform();
    const v = this.uniform();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }

  fillUniform(out: Float32Array, low = 0, high = 1): Float32Array {
    const width = high - low;
    this.forEachChunk(out.length, (raw, offset, n) => {
      for (let i = 0; i < n; i++) out[offset + i] = low + width * (raw[i] / TWO_POW_32);
    });
    return out;
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Bernoulli(keep) mask, its kept entries equal to `scale`, ready to multiply activations. The
   * default 1/keep is inverted dropout; pylearn2's `input_scales` lets a layer choose another
   * (mnist_pi masks its pixels at .8 and scales them by 1). The same entries as `uniform() < keep`
   * per entry: u = k / 2³² < keep ⇔ k < keep · 2³², exactly, since 2³² is a power of two.
   */
  fillDropoutMask(out: Float32Array, keep: number, scale = 1 / keep): Float32Array {
    const threshold = keep * TWO_POW_32;
    this.forEachChunk(out.length, (raw, offset, n) => {
      for (let i = 0; i < n; i++) out[offset + i] = raw[i] < threshold ? scale : 0;
    });
    return out;
  }

  /**
   * The generator's next `count` outputs as unsigned 32-bit integers, a chunk at a time: the
   * numbers `uniform()` would see one by one (a test holds the two equal), drawn by a loop over
   * local variables instead of a method call per number. Dropout draws ~160,000 numbers per
   * training step, and the per-call loop was a tenth of the step.
   */
  private forEachChunk(count: number, use: (raw: Uint32Array, offset: number, n: number) => void): void {
    const raw = (this.scratch ??= new Uint32Array(CHUNK));
    // pure-rand's xoroshiro128+ state order and step (generator/xoroshiro128plus.js `next`).
    let [s01, s00, s11, s10] = this.generator.getState();
    for (let offset = 0; offset < count; offset += CHUNK) {
      const n = Math.min(CHUNK, count - offset);
      for (let i = 0; i < n; i++) {
        raw[i] = (s00 + s10) | 0;
        const a0 = s10 ^ s00;
        const a1 = s11 ^ s01;
        const t00 = s00;
        const t01 = s01;
        s00 = (t00 << 24) ^ (t01 >>> 8) ^ a0 ^ (a0 << 16);
        s01 = (t01 << 24) ^ (t00 >>> 8) ^ a1 ^ ((a1 << 16) | (a0 >>> 16));
        s10 = (a1 << 5) ^ (a0 >>> 27);
        s11 = (a0 << 5) ^ (a1 >>> 27);
      }
      use(raw, offset, n);
    }
    this.generator = xoroshiro128plusFromState([s01, s00, s11, s10]);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): Int32Array {
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    return order;
  }
}
