import { convGeometry } from './conv-maxout.js';
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
