/**
 * Convolutional maxout layers (Goodfellow et al. 2013, "Maxout Networks", §5.3 CIFAR-10), the model
 * §4 and Appendix A of Goodfellow, Shlens & Szegedy 2015 attack on CIFAR-10.
 *
 * Design: a conv maxout layer is one more `HiddenLayerSpec` kind ('conv-maxout') that `Classifier`
 * builds and runs, so trainer, attacks, serialisation and max-norm all work unchanged. Its kernel is
 * stored as a 2-D variable [k·k·cin, units·pieces] (row-major = tfjs' [kh, kw, cin, cout]) and
 * reshaped to 4-D in the forward pass, so `applyConstraints`' per-column norm is exactly pylearn2's
 * max_kernel_norm, and activations travel between layers flattened NHWC [n, h·w·c], so per-layer
 * dropout masks stay Tensor2D.
 *
 * One layer: zero-pad → stride-1 convolution → + per-channel bias (pylearn2 tied_b) → max over each
 * unit's `pieces` channels → max-pool with cuda-convnet's ceil rounding (pylearn2 MaxoutConvC01B),
 * so the paper net's feature maps are 33→16, 15→7, 9→5 exactly as in pylearn2's cifar10.yaml.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ConvMaxoutLayerSpec, ModelSpec } from './spec.js';

/** Shapes of one conv maxout layer, fixed at construction. */
export interface ConvGeometry {
  /** Input feature map [height, width, channels]. */
  input: [number, number, number];
  kernel: number;
  pad: number;
  pool: number;
  poolStride: number;
  units: number;
  pieces: number;
  /** Convolution output side (before pooling). */
  convSize: [number, number];
  /** Output feature map [height, width, units] after pooling. */
  output: [number, number, number];
  /** Rows of the 2-D kernel variable: kernel · kernel · input channels. */
  fanIn: number;
  /** Flattened output width h · w · units. */
  outputSize: number;
}

/** cuda-convnet pooling output size: windows start every `stride` and the last may overhang. */
function pooledSize(size: number, pool: number, stride: number): number {
  return size <= pool ? 1 : Math.ceil((size - pool) / stride) + 1;
}

/** The geometry of `layer` applied to a feature map `input` (null when the previous layer was dense). */
export function convGeometry(layer: ConvMaxoutLayerSpec, input: [number, number, number] | null, index: number): ConvGeometry {
  if (!input) throw new Error(`hidden layer ${index}: a conv-maxout layer needs spec.imageShape and may only follow other conv-maxout layers`);
  const { kernel, pad, pool, poolStride, units, pieces } = layer;
  for (const [name, v] of Object.entries({ kernel, pool, poolStride, units, pieces })) {
    if (!(Number.isInteger(v) && v >= 1)) throw new Error(`hidden layer ${index}: ${name} must be a positive integer, got ${v}`);
  }
  if (!(Number.isInteger(pad) && pad >= 0)) throw new Error(`hidden layer ${index}: pad must be an integer ≥ 0, got ${pad}`);
  if (poolStride > pool) throw new Error(`hidden layer ${index}: poolStride (${poolStride}) must not exceed pool (${pool})`);
  const [h, w, c] = input;
  const convSize: [number, number] = [h + 2 * pad - kernel + 1, w + 2 * pad - kernel + 1];
  if (convSize[0] < 1 || convSize[1] < 1) throw new Error(`hidden layer ${index}: kernel ${kernel} is larger than the padded ${h + 2 * pad}×${w + 2 * pad} input`);
  const output: [number, number, number] = [pooledSize(convSize[0], pool, poolStride), pooledSize(convSize[1], pool, poolStride), units];
  return { input, kernel, pad, pool, poolStride, units, pieces, convSize, output, fanIn: kernel * kernel * c, outputSize: output[0] * output[1] * units };
}

/**
 * Stride-1 'valid' convolution with a hand-written gradient. tfjs-backend-wasm 4.22 has no
 * Conv2DBackpropFilter kernel, so the filter gradient is computed as a forward convolution of the
 * input (batch ↔ channels swapped) with the output gradient; the input gradient uses
 * conv2dTranspose (Conv2DBackpropInput), which every backend has.
 */
const convValid = tf.customGrad(((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [input, kernel, save] = args as [tf.Tensor4D, tf.Tensor4D, tf.GradSaveFunc];
  save([input, kernel]);
  return {
    value: tf.conv2d(input, kernel, 1, 'valid'),
    gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
      const [xs, ws] = saved as [tf.Tensor4D, tf.Tensor4D];
      const dy4 = dy as tf.Tensor4D;
      const dx = tf.conv2dTranspose(dy4, ws, xs.shape, 1, 'valid');
      // dW[a, b, ci, co] = Σ_{n,y,x} x[n, a+y, b+x, ci] · dy[n, y, x, co]
      const dw = tf.transpose(tf.conv2d(tf.transpose(xs, [3, 1, 2, 0]), tf.transpose(dy4, [1, 2, 0, 3]), 1, 'valid'), [1, 2, 0, 3]);
      return [dx, dw];
    },
  };
}) as Parameters<typeof tf.customGrad<tf.Tensor4D>>[0]) as (x: tf.Tensor4D, filter: tf.Tensor4D) => tf.Tensor4D;

/** One conv maxout layer on flattened NHWC rows [n, h·w·c] → [n, h'·w'·units]. */
export function convMaxoutForward(x: tf.Tensor2D, weights: tf.Tensor2D, bias: tf.Tensor1D, g: ConvGeometry): tf.Tensor2D {
  return tf.tidy(() => {
    const n = x.shape[0];
    const [h, w, c] = g.input;
    let image = tf.reshape(x, [n, h, w, c]) as tf.Tensor4D;
    if (g.pad > 0) image = tf.pad(image, [[0, 0], [g.pad, g.pad], [g.pad, g.pad], [0, 0]]);
    const kernel = tf.reshape(weights, [g.kernel, g.kernel, c, g.units * g.pieces]) as tf.Tensor4D;
    const z = tf.add(convValid(image, kernel), bias);
    const [ch, cw] = g.convSize;
    let maxed = tf.reshape(tf.max(tf.reshape(z, [-1, g.units, g.pieces]), 2), [n, ch, cw, g.units]) as tf.Tensor4D;
    // Ceil rounding: pad the bottom/right so the overhanging last window exists; the padding never wins the max.
    const extraH = (g.output[0] - 1) * g.poolStride + g.pool - ch;
    const extraW = (g.output[1] - 1) * g.poolStride + g.pool - cw;
    if (extraH > 0 || extraW > 0) maxed = tf.pad(maxed, [[0, 0], [0, Math.max(0, extraH)], [0, Math.max(0, extraW)], [0, 0]], -1e30);
    const pooled = g.pool === 1 && g.poolStride === 1 ? maxed : tf.maxPool(maxed, g.pool, g.poolStride, 'valid');
    return tf.reshape(pooled, [n, -1]) as tf.Tensor2D;
  });
}

/**
 * The CIFAR-10 conv maxout net of Goodfellow et al. 2013 (pylearn2 scripts/papers/maxout/cifar10.yaml):
 * 3 conv maxout layers (96, 192, 192 units × 2 pieces; kernels 8, 8, 5; pad 4, 3, 3; pools 4/2, 4/2,
 * 2/2; max kernel norms .9, 1.9365, 1.9365), a dense maxout layer of 500 units × 5 pieces (max
 * column norm 1.9), a softmax over 10 classes (max column norm 1.9365), weights U(-.005, .005),
 * dropout keep .8 on the input and .5 elsewhere. Not reproduced: W_lr_scale/b_lr_scale = .05 on the
 * conv layers (our trainer has one learning rate) and the GCN + ZCA preprocessing (a data concern).
 * `scale` < 1 shrinks every unit count, for tests and quick runs.
 */
export function convMaxoutSpec(overrides: Partial<ModelSpec> & { scale?: number } = {}): ModelSpec {
  const { scale = 1, ...rest } = overrides;
  const units = (n: number) => Math.max(1, Math.round(n * scale));
  return {
    name: scale === 1 ? 'conv-maxout' : `conv-maxout-x${scale}`,
    imageShape: [32, 32, 3],
    hidden: [
      { kind: 'conv-maxout', units: units(96), pieces: 2, kernel: 8, pad: 4, pool: 4, poolStride: 2, maxNorm: 0.9 },
      { kind: 'conv-maxout', units: units(192), pieces: 2, kernel: 8, pad: 3, pool: 4, poolStride: 2, maxNorm: 1.9365 },
      { kind: 'conv-maxout', units: units(192), pieces: 2, kernel: 5, pad: 3, pool: 2, poolStride: 2, maxNorm: 1.9365 },
      { kind: 'maxout', units: units(500), pieces: 5, maxNorm: 1.9 },
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
