import type { MomentumSchedule } from '../schedule.js';

/**
 * The multi-prediction deep Boltzmann machine of Goodfellow, Mirza, Courville & Bengio (NIPS 2013),
 * declared as data like every other model. The fields follow pylearn2's
 * `scripts/papers/mpdbm/mpdbm.yaml` and the classes it names (`pylearn2/models/dbm/`,
 * `pylearn2/costs/dbm.py`); `mpDbmSpec()` is that recipe.
 *
 * Structure (a DBM over binary visible units v, binary hidden layers h⁰ … hᴸ⁻¹ and a one-of-k label y):
 *   E(v, h, y) = −v·b_v − Σᵢ hⁱ·bᵢ − v W₀ h⁰ − Σᵢ hⁱ⁻¹ Wᵢ hⁱ − hᴸ⁻¹ W_y y − y·b_y
 * pylearn2 puts the label on top as a `Softmax` "hidden" layer, and so do we: it is the last layer of
 * the chain, updated by mean field like the others.
 */

/** How a layer's weights start (pylearn2: `sparse_init` or `irange`). */
export type MpDbmInit =
  /** Each unit gets `count` nonzero incoming weights at distinct random inputs, N(0, stdev²) (pylearn2 sparse_init, sparse_stdev 1). */
  | { kind: 'sparse'; count: number; stdev: number }
  /** U(−range, range) on every weight (pylearn2 irange). */
  | { kind: 'uniform'; range: number };

/** A `BinaryVectorMaxPool` layer with `pool_size: 1`: plain binary units, σ(total input) under mean field. */
export interface MpDbmHiddenLayerSpec {
  units: number;
  /** pylearn2 `init_bias`. */
  initBias: number;
  /** pylearn2 `max_col_norm` (each unit's incoming weights from the layer below); null = none. */
  maxNorm: number | null;
  init: MpDbmInit;
}

export interface MpDbmSpec {
  kind: 'mp-dbm';
  /** A short human name used in reports ("mp-dbm-2087-3200"). */
  name: string;
  /** Hidden layers from the visible layer up (none = the label sits on the pixels: softmax regression's graph). */
  hidden: MpDbmHiddenLayerSpec[];
  /** The label layer (pylearn2 `Softmax`, bias 0): its column norms and initialisation. */
  label: { maxNorm: number | null; init: MpDbmInit };
  /** Mean-field iterations, the first with doubled bottom-up weights (pylearn2 `niter`, `SuperWeightDoubling`). */
  iterations: number;
  /** `marginals`: σ(b_v) equals the training pixels' means (pylearn2 `bias_from_marginals`); `zero`: b_v = 0. */
  visibleBias: 'marginals' | 'zero';
  /**
   * How the label is read off. `mean-field`: the label layer after `iterations` of mean field with
   * every pixel clamped (pylearn2 `DBM.mf(X)[-1]`, what mpdbm.yaml's monitor and early stopping use).
   * `multi-inference`: the MP-DBM paper's multi-inference trick (`WeightDoubling.multi_infer`): the
   * pixels are re-inferred each iteration and clamped at the average of the data and the inference.
   */
  classify: 'mean-field' | 'multi-inference';
}

/**
 * pylearn2 `LinearDecayOverEpoch`: epoch e (1-based; pylearn2 calls the extension once before
 * training and after every epoch, so epoch e trains with count e) uses `initial` before
 * `startEpoch`, then falls by initial·(1 − decayFactor)/(saturate − start + 1) per epoch, reaching
 * initial·decayFactor at `saturateEpoch` and staying there.
 */
export interface LinearDecaySchedule {
  initial: number;
  startEpoch: number;
  saturateEpoch: number;
  decayFactor: number;
}

export function linearDecayAt(schedule: LinearDecaySchedule, epoch: number): number {
  if (!Number.isInteger(epoch) || epoch < 1) throw new Error(`epoch must be an integer ≥ 1, got ${epoch}`);
  const { initial, startEpoch, saturateEpoch, decayFactor } = schedule;
  if (epoch < startEpoch) return initial;
  if (epoch >= saturateEpoch) return initial * decayFactor;
  const step = (initial - initial * decayFactor) / (saturateEpoch - startEpoch + 1);
  return initial - step * (epoch - startEpoch + 1);
}

/** How training pixels become binary (the visible units are binary). Evaluation always sees the raw pixels, as pylearn2's `raw_valid` monitor does. */
export type Binarization =
  /** pylearn2 `Binarizer`: every time a batch is drawn, each pixel is an independent Bernoulli(pixel value) sample (our PRNG). */
  | 'stochastic'
  /** Pixel > .5. */
  | 'threshold'
  /** Train on the raw intensities as mean-field targets and clamped values. */
  | 'none';

/** Multi-prediction training (pylearn2 `MultiPrediction` with `MaskGen`), minibatch SGD with momentum. */
export interface MpDbmTrainConfig {
  kind: 'multi-prediction';
  /** Epoch cap; early stopping (EarlyStoppingRule) usually ends the paper's run sooner. */
  epochs: number;
  batchSize: number;
  learningRate: LinearDecaySchedule;
  /** pylearn2 `MomentumAdjustor`, by the absolute 1-based epoch. */
  momentum: MomentumSchedule;
  /** Each pixel, and each example's label, is hidden (a target) with this probability (MaskGen drop_prob; balance 0). */
  dropProbability: number;
  binarize: Binarization;
}

const SPARSE_CHECK = (init: MpDbmInit, fanIn: number, field: string): void => {
  if (init.kind === 'sparse') {
    if (!Number.isInteger(init.count) || init.count < 1 || init.count > fanIn) throw new Error(`mp-dbm spec: ${field}.init.count must be an integer in 1…${fanIn} (the layer's inputs), got ${init.count}`);
    if (!(init.stdev > 0)) throw new Error(`mp-dbm spec: ${field}.init.stdev must be > 0, got ${init.stdev}`);
  } else if (init.kind === 'uniform') {
    if (!(init.range >= 0)) throw new Error(`mp-dbm spec: ${field}.init.range must be ≥ 0, got ${init.range}`);
  } else throw new Error(`mp-dbm spec: ${field}.init.kind must be "sparse" or "uniform", got ${JSON.stringify((init as { kind: unknown }).kind)}`);
};

const NORM_CHECK = (norm: number | null, field: string): void => {
  if (norm !== null && !(norm > 0)) throw new Error(`mp-dbm spec: ${field}.maxNorm must be > 0 or null, got ${norm}`);
};

/** One line naming the first bad field, before anything is allocated. */
export function checkMpDbmSpec(spec: MpDbmSpec, inputSize: number): void {
  if (spec.kind !== 'mp-dbm') throw new Error(`mp-dbm spec: kind must be "mp-dbm", got ${JSON.stringify(spec.kind)}`);
  if (!Number.isInteger(spec.iterations) || spec.iterations < 1) throw new Error(`mp-dbm spec: iterations must be an integer ≥ 1, got ${spec.iterations}`);
  if (spec.hidden.length > 0 && spec.iterations < 2) throw new Error(`mp-dbm spec: iterations must be ≥ 2 with hidden layers (pylearn2 DBM: niter > 1), got ${spec.iterations}`);
  if (spec.visibleBias !== 'marginals' && spec.visibleBias !== 'zero') throw new Error(`mp-dbm spec: visibleBias must be "marginals" or "zero", got ${JSON.stringify(spec.visibleBias)}`);
  if (spec.classify !== 'mean-field' && spec.classify !== 'multi-inference') throw new Error(`mp-dbm spec: classify must be "mean-field" or "multi-inference", got ${JSON.stringify(spec.classify)}`);
  let fanIn = inputSize;
  spec.hidden.forEach((layer, i) => {
    if (!Number.isInteger(layer.units) || layer.units < 1) throw new Error(`mp-dbm spec: hidden[${i}].units must be an integer ≥ 1, got ${layer.units}`);
    if (!Number.isFinite(layer.initBias)) throw new Error(`mp-dbm spec: hidden[${i}].initBias must be a number, got ${layer.initBias}`);
    NORM_CHECK(layer.maxNorm, `hidden[${i}]`);
    SPARSE_CHECK(layer.init, fanIn, `hidden[${i}]`);
    fanIn = layer.units;
  });
  NORM_CHECK(spec.label.maxNorm, 'label');
  SPARSE_CHECK(spec.label.init, fanIn, 'label');
}

export function checkMpDbmTraining(config: MpDbmTrainConfig): void {
  if (config.kind !== 'multi-prediction') throw new Error(`mp-dbm training: kind must be "multi-prediction", got ${JSON.stringify(config.kind)}`);
  if (!Number.isInteger(config.epochs) || config.epochs < 1) throw new Error(`mp-dbm training: epochs must be an integer ≥ 1, got ${config.epochs}`);
  if (!Number.isInteger(config.batchSize) || config.batchSize < 1) throw new Error(`mp-dbm training: batchSize must be an integer ≥ 1, got ${config.batchSize}`);
  if (!(config.dropProbability > 0 && config.dropProbability < 1)) throw new Error(`mp-dbm training: dropProbability must be in (0, 1), got ${config.dropProbability}`);
  if (!['stochastic', 'threshold', 'none'].includes(config.binarize)) throw new Error(`mp-dbm training: binarize must be "stochastic", "threshold" or "none", got ${JSON.stringify(config.binarize)}`);
  const lr = config.learningRate;
  if (!(lr.initial > 0) || !(lr.decayFactor > 0) || !(lr.saturateEpoch >= lr.startEpoch)) throw new Error(`mp-dbm training: learningRate needs initial > 0, decayFactor > 0 and saturateEpoch ≥ startEpoch, got ${JSON.stringify(lr)}`);
}

/**
 * mpdbm.yaml's model: 784 binary pixels → 2,087 → 3,200 binary units → a 10-class softmax layer,
 * 14 mean-field iterations with weight doubling, per-layer max column norms and initial biases as
 * the yaml states them (its hyperparameters came from a random search, hence the digits).
 * `centre: 0` and `copies: 1` everywhere, so neither appears here.
 */
export function mpDbmSpec(overrides: Partial<MpDbmSpec> & { units?: [number, number] } = {}): MpDbmSpec {
  const { units = [2087, 3200], ...rest } = overrides;
  return {
    kind: 'mp-dbm',
    name: `mp-dbm-${units[0]}-${units[1]}`,
    hidden: [
      { units: units[0], initBias: -0.710467, maxNorm: 1.809978, init: { kind: 'sparse', count: 15, stdev: 1 } },
      { units: units[1], initBias: -0.393587, maxNorm: 2.666304, init: { kind: 'uniform', range: 0.00638830865761 } },
    ],
    label: { maxNorm: 5.175683, init: { kind: 'sparse', count: 23, stdev: 1 } },
    iterations: 14,
    visibleBias: 'marginals',
    classify: 'mean-field',
    ...rest,
  };
}

/**
 * mpdbm.yaml's training: batch 100; lr 15.146493 decaying linearly from epoch 1 to
 * 15.146493 × .020379 at epoch 868 (LinearDecayOverEpoch start 1, saturate 868); momentum .5 → .732716
 * between epochs 1 and 2 (MomentumAdjustor start 1, saturate 2); MultiPrediction with
 * MaskGen(drop_prob .5, balance 0), supervised, both_directions 0, noise 0; stochastically binarized
 * pixels (Binarizer). Early stopping on the raw validation error with patience 100 is the role's
 * EarlyStoppingRule; `epochs` is only a cap.
 */
export function mpDbmTraining(epochs: number, overrides: Partial<MpDbmTrainConfig> = {}): MpDbmTrainConfig {
  return {
    kind: 'multi-prediction',
    epochs,
    batchSize: 100,
    learningRate: { initial: 15.146493, startEpoch: 1, saturateEpoch: 868, decayFactor: 0.020379 },
    momentum: { initial: 0.5, final: 0.732716, startEpoch: 1, saturateEpoch: 2 },
    dropProbability: 0.5,
    binarize: 'stochastic',
    ...overrides,
  };
}

/** Tells an MP-DBM's spec from a feed-forward ModelSpec (which has no `kind`). */
export function isMpDbmSpec(spec: object): spec is MpDbmSpec {
  return (spec as { kind?: unknown }).kind === 'mp-dbm';
}
