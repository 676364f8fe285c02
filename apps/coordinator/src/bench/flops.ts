import { forwardMatMuls, type ModelSpec } from '@advx/models';

/**
 * matMul FLOPs (2·m·k·n each) of the dense maxout nets the bench times. Only matMuls count: bias
 * adds, the maxout reductions, dropout multiplies and the optimizer are left out, as GEMM-based
 * FLOP counts usually do, so GFLOP/s compares directly with the SGEMM peak.
 */
export interface StepFlops {
  /** Forward pass, per example. */
  forward: number;
  /** Training step per example: forward + ∂W for every layer + ∂x for every layer but the first
   *  (tfjs prunes the tape to paths from the variables, so the input's gradient is never formed). */
  train: number;
  /** FGSM per example: forward + ∂x for every layer, no ∂W (tf.grad w.r.t. the input only). */
  fgsm: number;
  /** Adversarial-training step per example: FGSM on the dropout net, then a training step on x and x̃. */
  advTrain: number;
}

/** Per-layer [fanIn, columns] of a dense (non-conv) ModelSpec with a dense head. */
export function denseShapes(spec: ModelSpec, inputSize: number, numClasses: number): [number, number][] {
  if (spec.head === 'rbf') throw new Error('flop count does not cover the rbf head');
  const conv = spec.hidden.find((layer) => layer.kind !== 'maxout');
  if (conv) throw new Error(`flop count covers dense maxout layers only, not ${conv.kind}`);
  return forwardMatMuls(spec, inputSize, numClasses).map(({ fanIn, columns }) => [fanIn, columns]);
}

export function stepFlops(spec: ModelSpec, inputSize: number, numClasses: number): StepFlops {
  const perLayer = denseShapes(spec, inputSize, numClasses).map(([k, n]) => 2 * k * n);
  const forward = perLayer.reduce((s, f) => s + f, 0);
  const train = 3 * forward - perLayer[0];
  const fgsm = 2 * forward;
  return { forward, train, fgsm, advTrain: fgsm + 2 * train };
}
