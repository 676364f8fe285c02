import * as tf from '@tensorflow/tfjs-core';

/**
 * Mean-field inference in a DBM, unrolled for a fixed number of steps and built from ordinary tfjs
 * ops, so it is differentiable end to end: multi-prediction training backpropagates through it
 * into the weights, and attacks backpropagate through it into the pixels.
 *
 * These are pylearn2's procedures (`pylearn2/models/dbm/inference_procedure.py`, `WeightDoubling`
 * = `SuperWeightDoubling`) for a chain visible → layers[0] → … → layers[L−1], where the last layer
 * is the label's softmax and the others are binary (`BinaryVectorMaxPool`, pool_size 1: σ of the
 * total input). Layer j's total input is (below)·Wⱼ + bⱼ + (above)·Wⱼ₊₁ᵀ. Each iteration updates
 * the even layers (0, 2, …) given the odd ones, then the odd ones given the new even ones — the
 * order pylearn2 uses, and the one under which each half-step is an exact coordinate ascent of the
 * variational free energy. The first pass has no top-down input yet, so it doubles the bottom-up
 * input of every layer but the last (Salakhutdinov & Hinton's weight doubling).
 */
export interface DbmParams {
  visibleBias: tf.Tensor1D;
  /** layers[j].weights: [width below, width of j]; the last layer is the label. */
  layers: { weights: tf.Tensor2D; bias: tf.Tensor1D }[];
}

export interface MeanFieldResult {
  /** Every layer's mean-field state after the last iteration (the last is the label's probabilities). */
  states: tf.Tensor2D[];
  /** The label layer's total input at its last update: softmax(labelLogits) is the label's state. */
  labelLogits: tf.Tensor2D;
}

export interface InpaintResult extends MeanFieldResult {
  /** The visible layer's total input at its last update (σ of it is the inferred pixel). */
  visibleLogits: tf.Tensor2D;
}

/** Identity forward, zero gradient backward (pylearn2 `block_gradient`; tfjs has no stopGradient). */
const blockGradient = tf.customGrad(((x: tf.Tensor) => ({ value: tf.clone(x), gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy) })) as unknown as Parameters<typeof tf.customGrad>[0]) as <T extends tf.Tensor>(x: T) => T;

/** Total input of layer j given the states below and above (null = none), the bottom-up part optionally doubled. */
function totalInput(params: DbmParams, j: number, below: tf.Tensor2D | null, above: tf.Tensor2D | null, double: boolean, bottomUp?: tf.Tensor2D): tf.Tensor2D {
  const { weights, bias } = params.layers[j];
  let z = bottomUp ?? (tf.matMul(below!, weights) as tf.Tensor2D);
  if (double) z = tf.mul(z, 2);
  z = tf.add(z, bias);
  if (above) z = tf.add(z, tf.matMul(above, params.layers[j + 1].weights, false, true));
  return z as tf.Tensor2D;
}

/** One layer's mean-field update: σ for binary layers, softmax for the label; its total input kept for the label's cost. */
function update(params: DbmParams, j: number, below: tf.Tensor2D | null, above: tf.Tensor2D | null, double = false, bottomUp?: tf.Tensor2D): { state: tf.Tensor2D; z: tf.Tensor2D } {
  const z = totalInput(params, j, below, above, double, bottomUp);
  return { state: j === params.layers.length - 1 ? tf.softmax(z) : tf.sigmoid(z), z };
}

/**
 * pylearn2 `WeightDoubling.mf(V)` with the label unobserved: the DBM's classifier. Every pixel is
 * clamped, so the first layer's bottom-up input v·W₀ is the same every iteration and computed once.
 * Must run inside a tidy (the caller's).
 */
export function meanField(params: DbmParams, v: tf.Tensor2D, iterations: number): MeanFieldResult {
  const L = params.layers.length;
  const vW0 = tf.matMul(v, params.layers[0].weights) as tf.Tensor2D;
  const states: tf.Tensor2D[] = [];
  let labelLogits: tf.Tensor2D | null = null;
  for (let i = 0; i < L; i++) {
    const u = update(params, i, i === 0 ? null : states[i - 1], null, i < L - 1, i === 0 ? vW0 : undefined);
    states.push(u.state);
    if (i === L - 1) labelLogits = u.z;
  }
  if (L > 1) {
    for (let it = 1; it < iterations; it++) {
      for (const parity of [0, 1])
        for (let j = parity; j < L; j += 2) {
          const u = update(params, j, j === 0 ? null : states[j - 1], j < L - 1 ? states[j + 1] : null, false, j === 0 ? vW0 : undefined);
          states[j] = u.state;
          if (j === L - 1) labelLogits = u.z;
        }
    }
  }
  return { states, labelLogits: labelLogits! };
}

/**
 * pylearn2 `WeightDoubling.multi_infer(V)`, the MP-DBM paper's multi-inference trick: the pixels are
 * inferred too, and each iteration clamps the visible layer at ½(data + inference), starting from
 * ½(data + σ(b_v)); the label is read off as in `meanField`. Must run inside a tidy.
 */
export function multiInference(params: DbmParams, v: tf.Tensor2D, iterations: number): MeanFieldResult {
  const L = params.layers.length;
  // init_inpainting_state blocks the gradient through σ(b_v) (learn_init_inpainting_state = 0).
  let clamped = tf.add(tf.mul(v, 0.5), tf.mul(blockGradient(tf.sigmoid(params.visibleBias)), 0.5)) as tf.Tensor2D;
  const states: tf.Tensor2D[] = [];
  let labelLogits: tf.Tensor2D | null = null;
  for (let i = 0; i < L; i++) {
    // With no hidden layer pylearn2 feeds the label the raw pixels.
    const u = update(params, i, i === 0 ? (L === 1 ? v : clamped) : states[i - 1], null, i < L - 1);
    states.push(u.state);
    if (i === L - 1) labelLogits = u.z;
  }
  if (L > 1) {
    for (let it = 1; it < iterations; it++) {
      for (let j = 0; j < L; j += 2) {
        const u = update(params, j, j === 0 ? clamped : states[j - 1], j < L - 1 ? states[j + 1] : null);
        states[j] = u.state;
        if (j === L - 1) labelLogits = u.z;
      }
      const vHat = tf.sigmoid(tf.add(tf.matMul(states[0], params.layers[0].weights, false, true), params.visibleBias));
      clamped = tf.add(tf.mul(vHat, 0.5), tf.mul(v, 0.5)) as tf.Tensor2D;
      for (let j = 1; j < L; j += 2) {
        const u = update(params, j, states[j - 1], j < L - 1 ? states[j + 1] : null);
        states[j] = u.state;
        if (j === L - 1) labelLogits = u.z;
      }
    }
  }
  return { states, labelLogits: labelLogits! };
}

/**
 * pylearn2 `WeightDoubling.do_inpainting` (supervised, noise off): mean field with the pixels where
 * `visibleDrop` is 1 and the labels where `labelDrop` is 1 hidden, everything else clamped to the
 * data; the hidden pixels are inferred between the even and the odd half-steps. Hidden pixels start
 * at σ(b_v) (no gradient, as pylearn2), hidden labels at softmax(b_y) (with gradient: the Softmax
 * layer's learn_init_inpainting_state defaults to 1). `iterations` counts the first pass.
 * Must run inside a tidy.
 *
 * @param visibleDrop [n, d] of 0/1. @param labels one-hot [n, k]. @param labelDrop [n, 1] of 0/1.
 */
export function inpaint(params: DbmParams, v: tf.Tensor2D, visibleDrop: tf.Tensor2D, labels: tf.Tensor2D, labelDrop: tf.Tensor2D, iterations: number): InpaintResult {
  const L = params.layers.length;
  const keepV = tf.sub(1, visibleDrop);
  const keepY = tf.sub(1, labelDrop);
  const clampedV = tf.mul(v, keepV);
  const clampedY = tf.mul(labels, keepY);
  const n = v.shape[0];
  // pylearn2 blocks the gradient through the hidden pixels' starting value, not through V_hat_unmasked
  // (which the cost reads only when there is no iteration after the first pass).
  let visibleLogits = tf.tile(tf.reshape(params.visibleBias, [1, -1]), [n, 1]) as tf.Tensor2D;
  let vHat = tf.add(tf.mul(blockGradient(tf.sigmoid(visibleLogits)), visibleDrop), clampedV) as tf.Tensor2D;
  const states: tf.Tensor2D[] = [];
  for (let i = 0; i < L; i++) states.push(update(params, i, i === 0 ? vHat : states[i - 1], null, i < L - 1).state);
  // The label starts at its prior where hidden, at the data where not.
  const labelBias = params.layers[L - 1].bias;
  let labelLogits = tf.tile(tf.reshape(labelBias, [1, -1]), [n, 1]) as tf.Tensor2D;
  states[L - 1] = tf.add(tf.mul(tf.softmax(labelLogits), labelDrop), clampedY) as tf.Tensor2D;
  if (L > 1) states[L - 2] = update(params, L - 2, L === 2 ? vHat : states[L - 3], states[L - 1], false).state;
  const step = (j: number) => {
    const u = update(params, j, j === 0 ? vHat : states[j - 1], j < L - 1 ? states[j + 1] : null);
    if (j === L - 1) {
      labelLogits = u.z;
      states[j] = tf.add(tf.mul(u.state, labelDrop), clampedY) as tf.Tensor2D;
    } else states[j] = u.state;
  };
  for (let it = 1; it < iterations; it++) {
    for (let j = 0; j < L; j += 2) step(j);
    visibleLogits = tf.add(tf.matMul(states[0], params.layers[0].weights, false, true), params.visibleBias) as tf.Tensor2D;
    vHat = tf.add(tf.mul(tf.sigmoid(visibleLogits), visibleDrop), clampedV) as tf.Tensor2D;
    for (let j = 1; j < L; j += 2) step(j);
  }
  return { states, labelLogits, visibleLogits };
}

/**
 * pylearn2 `MultiPrediction` cost (supervised, both_directions 0, use_sum 0) of one inpainting:
 * the cross-entropy of each hidden pixel under its inferred Bernoulli, averaged over all n·d pixel
 * slots (shown pixels count as 0, as `recons_cost` takes the mean of the masked cost), plus the
 * negative log-probability of each hidden label averaged over the n examples and scaled by 1/d
 * (`Softmax.recons_cost`'s `scale`), so one label weighs as one pixel. Computed from the total
 * inputs with softplus, as pylearn2 does, for stability. Must run inside a tidy.
 */
export function multiPredictionCost(result: InpaintResult, v: tf.Tensor2D, visibleDrop: tf.Tensor2D, labels: tf.Tensor2D, labelDrop: tf.Tensor2D): tf.Scalar {
  const z = result.visibleLogits;
  const d = v.shape[1];
  const pixel = tf.add(tf.mul(v, tf.softplus(tf.neg(z))), tf.mul(tf.sub(1, v), tf.softplus(z)));
  const visible = tf.mean(tf.mul(pixel, visibleDrop));
  const logProbability = tf.sum(tf.mul(labels, tf.logSoftmax(result.labelLogits)), 1, true);
  const label = tf.div(tf.neg(tf.mean(tf.mul(logProbability, labelDrop))), d);
  return tf.add(visible, label) as tf.Scalar;
}
