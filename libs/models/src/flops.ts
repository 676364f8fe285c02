import { convGeometry } from './conv-maxout.js';
import type { MpDbmSpec } from './mp-dbm/spec.js';
import type { ModelSpec } from './spec.js';

/**
 * One matMul of a forward pass, per example: a [1, fanIn] row (a conv layer: one per output
 * position, `positions` of them) times a [fanIn, columns] weight matrix.
 */
export interface LayerMatMul {
  fanIn: number;
  columns: number;
  positions: number;
}

/**
 * The matMuls of `spec`'s forward pass on one example, in layer order: maxout layers (dense or
 * conv, pieces included in the columns), then the dense head, or the RBF layer's two products
 * (x²·β and x·(β∘w); the third term does not depend on x).
 */
export function forwardMatMuls(spec: ModelSpec, inputSize: number, numClasses: number): LayerMatMul[] {
  const layers: LayerMatMul[] = [];
  let width = inputSize;
  let image = spec.imageShape ?? null;
  spec.hidden.forEach((layer, i) => {
    if (layer.kind === 'conv-maxout') {
      const g = convGeometry(layer, image, i);
      layers.push({ fanIn: g.fanIn, columns: layer.units * layer.pieces, positions: g.convSize[0] * g.convSize[1] });
      width = g.outputSize;
      image = g.output;
    } else {
      layers.push({ fanIn: width, columns: layer.units * layer.pieces, positions: 1 });
      width = layer.units;
      image = null;
    }
  });
  const outputs = spec.outputs ?? numClasses;
  const head = { fanIn: width, columns: outputs, positions: 1 };
  layers.push(...(spec.head === 'rbf' ? [head, head] : [head]));
  return layers;
}

/** FLOPs (2 per multiply-add) of the forward pass's matMuls on one example. */
export function forwardFlops(spec: ModelSpec, inputSize: number, numClasses: number): number {
  return forwardMatMuls(spec, inputSize, numClasses).reduce((sum, { fanIn, columns, positions }) => sum + 2 * fanIn * columns * positions, 0);
}

/**
 * Forward FLOPs of an MP-DBM's classification (mean field with the pixels clamped) on one example:
 * the first pass is one bottom-up product per layer, every further iteration one product with each
 * layer's weights from below and from above (v·W₀ is computed once). Multi-inference adds the
 * pixels' top-down product per iteration. Multi-prediction training (inpainting) recomputes v·W₀
 * and the pixels every iteration: `mpDbmTrainingFlops`.
 */
export function mpDbmForwardFlops(spec: MpDbmSpec, inputSize: number, numClasses: number): number {
  const widths = [inputSize, ...spec.hidden.map((l) => l.units), numClasses];
  const products = widths.slice(1).map((w, j) => 2 * widths[j] * w);
  const first = products.reduce((s, p) => s + p, 0);
  // Each iteration: layer j ≥ 1 reads Wⱼ (below) and every layer but the last reads Wⱼ₊₁ (above).
  const perIteration = products.slice(1).reduce((s, p) => s + 2 * p, 0) + (spec.classify === 'multi-inference' ? products[0] : 0);
  return first + (spec.hidden.length > 0 ? (spec.iterations - 1) * perIteration : 0);
}

/** Forward FLOPs of one multi-prediction inpainting on one example (a training step is ≈ 3× this). */
export function mpDbmTrainingFlops(spec: MpDbmSpec, inputSize: number, numClasses: number): number {
  const widths = [inputSize, ...spec.hidden.map((l) => l.units), numClasses];
  const products = widths.slice(1).map((w, j) => 2 * widths[j] * w);
  const all = products.reduce((s, p) => s + p, 0);
  // Per iteration every product twice (below and above), v·W₀ and the pixels' W₀ᵀ included.
  return all + (spec.iterations - 1) * 2 * all;
}
