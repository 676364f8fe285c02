/**
 * Models are declared as data so that experiments can name them, hash them into run keys and
 * rebuild them in any worker. Every field that changes the numbers belongs here.
 */
export type Head =
  /** Mutually exclusive classes: softmax over logits, cross-entropy loss. */
  | 'softmax'
  /** Independent per-class sigmoids (App. A "sigmoid top", and 1-output logistic regression). */
  | 'sigmoid';

export interface MaxoutLayerSpec {
  kind: 'maxout';
  units: number;
  pieces: number;
  /** Max-norm for this layer's columns, overriding `maxColumnNorm` (pylearn2 per-layer max_col_norm). */
  maxNorm?: number | null;
}

/**
 * Convolutional maxout (conv-maxout.ts): zero-pad, stride-1 k×k convolution to units·pieces channels,
 * max over each unit's pieces, max-pool (cuda-convnet ceil rounding). Needs `ModelSpec.imageShape`
 * and may only follow other conv layers; inputs stay flattened NHWC rows.
 */
export interface ConvMaxoutLayerSpec {
  kind: 'conv-maxout';
  units: number;
  pieces: number;
  kernel: number;
  pad: number;
  pool: number;
  poolStride: number;
  /** Max-norm of each output channel's kernel (pylearn2 max_kernel_norm), overriding `maxColumnNorm`. */
  maxNorm?: number | null;
}

export interface RbfLayerSpec {
  /**
   * One RBF unit per class, p(y=i|x) = exp(-Σ_j β_ij (x_j - w_ij)²) (§7). Its output is the
   * log-probability, so it must be the last layer and is paired with the 'rbf' head.
   */
  kind: 'rbf';
}

export type HiddenLayerSpec = MaxoutLayerSpec | ConvMaxoutLayerSpec;

export interface ModelSpec {
  /** A short human name used in reports ("maxout-240", "softmax-regression"). */
  name: string;
  hidden: HiddenLayerSpec[];
  /** [height, width, channels] of each input row (flattened NHWC); required by conv-maxout layers. */
  imageShape?: [number, number, number];
  head: Head | 'rbf';
  /** Number of outputs; defaults to the dataset's class count (1 for logistic regression). */
  outputs?: number;
  /** Dropout keep-probabilities: the input and each hidden layer (1 = no dropout). */
  inputKeep: number;
  hiddenKeep: number;
  /**
   * What a kept input pixel is multiplied by while training (pylearn2 `input_scales`). Absent means
   * 1/inputKeep (inverted dropout, so test-time inputs need no rescaling). The paper's maxout nets
   * use 1: pixels are masked at .8 and not rescaled, so the first layer sees inputs 1/.8 larger at
   * test time than their training-time mean. Hidden layers always use 1/hiddenKeep (pylearn2's
   * default scale 2 for p = .5).
   */
  inputScale?: number;
  /** Max-norm on each unit's incoming weight vector (pylearn2's max_col_norm); null = none. */
  maxColumnNorm: number | null;
  /** Weights drawn from U(-initRange, initRange) by our seeded PRNG; biases start at 0. */
  initRange: number;
  /** L1 penalty coefficient on the first layer's weights (§5/§6 control); 0 = none. */
  firstLayerL1: number;
}

export function softmaxRegressionSpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    name: 'softmax-regression',
    hidden: [],
    head: 'softmax',
    inputKeep: 1,
    hiddenKeep: 1,
    maxColumnNorm: null,
    initRange: 0.005,
    firstLayerL1: 0,
    ...overrides,
  };
}

export function logisticRegressionSpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return softmaxRegressionSpec({ name: 'logistic-regression', head: 'sigmoid', outputs: 1, ...overrides });
}

/** The paper's MNIST maxout net (pylearn2 mnist_pi): 2 × 240 units × 5 pieces, dropout .8/.5, max-norm 1.9365. */
export function maxoutSpec(overrides: Partial<ModelSpec> & { units?: number; pieces?: number } = {}): ModelSpec {
  const { units = 240, pieces = 5, ...rest } = overrides;
  return {
    name: `maxout-${units}`,
    hidden: [
      { kind: 'maxout', units, pieces },
      { kind: 'maxout', units, pieces },
    ],
    head: 'softmax',
    inputKeep: 0.8,
    hiddenKeep: 0.5,
    inputScale: 1,
    maxColumnNorm: 1.9365,
    initRange: 0.005,
    firstLayerL1: 0,
    ...rest,
  };
}

export function rbfSpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    name: 'rbf',
    hidden: [],
    head: 'rbf',
    inputKeep: 1,
    hiddenKeep: 1,
    maxColumnNorm: null,
    initRange: 0,
    firstLayerL1: 0,
    ...overrides,
  };
}
