import { xoroshiro128plus, xoroshiro128plusFromState } from 'pure-rand/generator/xoroshiro128plus';

type Generator = ReturnType<typeof xoroshiro128plus>;

const TWO_POW_32 = 4294967296;

/**
 * The project's one source of randomness. tfjs initialisers ignore their `seed`, so weight init,
 * shuffling, dropout masks and noise all draw from here; the same seed gives the same numbers on
 * every backend because nothing random is left to the backend.
 */
export class Rng {
  private constructor(private readonly generator: Generator) {}

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
    for (let i = 0; i < out.length; i++) out[i] = low + width * this.uniform();
    return out;
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /**
   * Bernoulli(keep) mask, its kept entries equal to `scale`, ready to multiply activations. The
   * default 1/keep is inverted dropout; pylearn2's `input_scales` lets a layer choose another
   * (mnist_pi masks its pixels at .8 and scales them by 1).
   */
  fillDropoutMask(out: Float32Array, keep: number, scale = 1 / keep): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniform() < keep ? scale : 0;
    return out;
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
