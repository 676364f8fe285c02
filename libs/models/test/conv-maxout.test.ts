import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { Classifier, asAttackTarget, convGeometry, convMaxoutForward, convMaxoutSpec, loadModel, saveModel, train, type ModelSpec } from '@advx/models';
import { fgsm } from '@advx/attacks';
import { blobs, maxAbsDiff, trainConfig } from './helpers.js';

const IMAGE: [number, number, number] = [8, 8, 3];
const D = 8 * 8 * 3;
const K = 3;

/** Two small conv maxout layers, a dense maxout layer and a softmax, on 8×8×3 inputs. */
function tinySpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    name: 'tiny-conv-maxout',
    imageShape: IMAGE,
    hidden: [
      { kind: 'conv-maxout', units: 4, pieces: 2, kernel: 3, pad: 1, pool: 3, poolStride: 2, maxNorm: 0.9 },
      { kind: 'conv-maxout', units: 5, pieces: 2, kernel: 2, pad: 1, pool: 2, poolStride: 2 },
      { kind: 'maxout', units: 6, pieces: 3, maxNorm: 1.9 },
    ],
    head: 'softmax',
    inputKeep: 1,
    hiddenKeep: 1,
    maxColumnNorm: 1.9365,
    initRange: 0.1,
    firstLayerL1: 0,
    ...overrides,
  };
}

/** Plain-JS zero-padded stride-1 convolution + bias of NHWC `x` with a [k·k·c, co] kernel (row-major [k, k, c, co]). */
function referenceConv(x: Float32Array, n: number, [h, w, c]: [number, number, number], W: Float32Array, b: Float32Array, k: number, pad: number, co: number) {
  const oh = h + 2 * pad - k + 1;
  const ow = w + 2 * pad - k + 1;
  const out = new Float64Array(n * oh * ow * co);
  for (let s = 0; s < n; s++)
    for (let y = 0; y < oh; y++)
      for (let xx = 0; xx < ow; xx++)
        for (let o = 0; o < co; o++) {
          let sum = b[o];
          for (let a = 0; a < k; a++)
            for (let bb = 0; bb < k; bb++) {
              const iy = y + a - pad;
              const ix = xx + bb - pad;
              if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
              for (let ci = 0; ci < c; ci++) sum += x[((s * h + iy) * w + ix) * c + ci] * W[((a * k + bb) * c + ci) * co + o];
            }
          out[((s * oh + y) * ow + xx) * co + o] = sum;
        }
  return { out, oh, ow };
}

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'advx-conv-maxout-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('conv maxout geometry', () => {
  it('the paper net (pylearn2 cifar10.yaml) has cuda-convnet feature maps 33→16, 15→7, 9→5', () => {
    const spec = convMaxoutSpec();
    let image = spec.imageShape!;
    const sizes: number[][] = [];
    spec.hidden.forEach((layer, i) => {
      if (layer.kind !== 'conv-maxout') return;
      const g = convGeometry(layer, image, i);
      sizes.push([g.convSize[0], g.output[0], g.output[2]]);
      image = g.output;
    });
    expect(sizes).toEqual([
      [33, 16, 96],
      [15, 7, 192],
      [9, 5, 192],
    ]);
  });

  it('rejects a conv layer after a dense one, a missing imageShape and a mismatched inputSize', () => {
    const rng = Rng.fromSeed(1);
    const afterDense = tinySpec({ hidden: [{ kind: 'maxout', units: 4, pieces: 2 }, { kind: 'conv-maxout', units: 2, pieces: 2, kernel: 2, pad: 0, pool: 1, poolStride: 1 }] });
    expect(() => new Classifier(tinySpec({ imageShape: undefined }), D, K, rng)).toThrow(/imageShape/);
    expect(() => new Classifier(tinySpec(), D + 1, K, rng)).toThrow(/inputSize/);
    // Thrown after hidden0 is built, whose variables are not released (Classifier's constructor has no cleanup).
    expect(() => new Classifier(afterDense, D, K, rng)).toThrow(/conv-maxout/);
  });
});

describe('conv maxout forward', () => {
  it('one layer equals a plain-JS convolution, maxout over pieces and ceil-mode max-pooling', () => {
    const layer = { kind: 'conv-maxout' as const, units: 3, pieces: 2, kernel: 3, pad: 1, pool: 3, poolStride: 2 };
    const image: [number, number, number] = [5, 5, 2];
    const g = convGeometry(layer, image, 0);
    // 5 + 2 - 3 + 1 = 5 → ceil((5 - 3) / 2) + 1 = 2 windows per side.
    expect(g.output).toEqual([2, 2, 3]);
    const rng = Rng.fromSeed(3);
    const n = 2;
    const x = rng.fillUniform(new Float32Array(n * 50), -1, 1);
    const W = rng.fillUniform(new Float32Array(g.fanIn * 6), -1, 1);
    const b = rng.fillUniform(new Float32Array(6), -1, 1);
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => convMaxoutForward(tf.tensor2d(x, [n, 50]), tf.tensor2d(W, [g.fanIn, 6]), tf.tensor1d(b), g).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    const { out: conv, oh, ow } = referenceConv(x, n, image, W, b, 3, 1, 6);
    const expected: number[] = [];
    for (let s = 0; s < n; s++)
      for (let py = 0; py < 2; py++)
        for (let px = 0; px < 2; px++)
          for (let u = 0; u < 3; u++) {
            let best = -Infinity;
            for (let y = py * 2; y < Math.min(oh, py * 2 + 3); y++)
              for (let xx = px * 2; xx < Math.min(ow, px * 2 + 3); xx++)
                for (let p = 0; p < 2; p++) best = Math.max(best, conv[((s * oh + y) * ow + xx) * 6 + u * 2 + p]);
            expected.push(best);
          }
    expect(out.length).toBe(expected.length);
    expect(maxAbsDiff(out, expected)).toBeLessThan(1e-4);
  });

  it('pools with ceil rounding: a 7-wide map with pool 4 / stride 2 gives 2 windows, the last overhanging', () => {
    const layer = { kind: 'conv-maxout' as const, units: 1, pieces: 1, kernel: 1, pad: 0, pool: 4, poolStride: 2 };
    const g = convGeometry(layer, [1, 7, 1], 0);
    expect(g.output).toEqual([1, 3, 1]);
    // The third window covers columns 4..7 of a 7-wide row; column 6 holds the maximum.
    const row = new Float32Array([0, 1, 2, 3, 4, 5, 9]);
    const out = tf.tidy(() => convMaxoutForward(tf.tensor2d(row, [1, 7]), tf.tensor2d([1], [1, 1]), tf.zeros([1]) as tf.Tensor1D, g).dataSync());
    expect(Array.from(out)).toEqual([3, 5, 9]);
  });

  it('the filter gradient (custom, wasm has no Conv2DBackpropFilter) equals the hand-computed one', () => {
    const layer = { kind: 'conv-maxout' as const, units: 2, pieces: 1, kernel: 2, pad: 1, pool: 1, poolStride: 1 };
    const image: [number, number, number] = [3, 4, 2];
    const g = convGeometry(layer, image, 0);
    const rng = Rng.fromSeed(4);
    const n = 2;
    const x = rng.fillUniform(new Float32Array(n * 24), -1, 1);
    const W = rng.fillUniform(new Float32Array(g.fanIn * 2), -1, 1);
    const R = rng.fillUniform(new Float32Array(n * g.outputSize), -1, 1);
    const before = tf.memory().numTensors;
    const [dW, dx] = tf.tidy(() => {
      const r = tf.tensor2d(R, [n, g.outputSize]);
      const b = tf.zeros([2]) as tf.Tensor1D;
      const f = (xs: tf.Tensor, ws: tf.Tensor) => tf.sum(tf.mul(convMaxoutForward(xs as tf.Tensor2D, ws as tf.Tensor2D, b, g), r));
      const [gx, gw] = tf.grads(f)([tf.tensor2d(x, [n, 24]), tf.tensor2d(W, [g.fanIn, 2])]);
      return [gw.dataSync(), gx.dataSync()];
    });
    expect(tf.memory().numTensors).toBe(before);
    const [oh, ow] = g.convSize;
    const expectedW = new Float64Array(g.fanIn * 2);
    const expectedX = new Float64Array(n * 24);
    for (let s = 0; s < n; s++)
      for (let y = 0; y < oh; y++)
        for (let xx = 0; xx < ow; xx++)
          for (let o = 0; o < 2; o++) {
            const r = R[((s * oh + y) * ow + xx) * 2 + o];
            for (let a = 0; a < 2; a++)
              for (let bb = 0; bb < 2; bb++) {
                const iy = y + a - 1;
                const ix = xx + bb - 1;
                if (iy < 0 || iy >= 3 || ix < 0 || ix >= 4) continue;
                for (let ci = 0; ci < 2; ci++) {
                  const wi = ((a * 2 + bb) * 2 + ci) * 2 + o;
                  const xi = ((s * 3 + iy) * 4 + ix) * 2 + ci;
                  expectedW[wi] += x[xi] * r;
                  expectedX[xi] += W[wi] * r;
                }
              }
          }
    expect(maxAbsDiff(dW, expectedW)).toBeLessThan(1e-4);
    expect(maxAbsDiff(dx, expectedX)).toBeLessThan(1e-4);
  });
});

describe('conv maxout Classifier', () => {
  it('builds, runs forward with the right shapes and dropout widths, and frees every tensor', () => {
    const before = tf.memory().numTensors;
    const model = new Classifier(tinySpec(), D, K, Rng.fromSeed(1));
    // 8 + 2 - 3 + 1 = 8 → ceil((8 - 3) / 2) + 1 = 4; 4 + 2 - 2 + 1 = 5 → ceil(3 / 2) + 1 = 3.
    expect(model.dropoutWidths().map((w) => w.width)).toEqual([D, 4 * 4 * 4, 3 * 3 * 5, 6]);
    expect(model.namedVariables.map(([name, v]) => `${name}:${v.shape.join('x')}`)).toEqual([
      'hidden0/W:27x8',
      'hidden0/b:8',
      'hidden1/W:16x10',
      'hidden1/b:10',
      'hidden2/W:45x18',
      'hidden2/b:18',
      'output/W:6x3',
      'output/b:3',
    ]);
    expect(model.firstLayerWeights.shape).toEqual([27, 8]);
    const x = Rng.fromSeed(2).fillUniform(new Float32Array(5 * D));
    const result = tf.tidy(() => {
      const scores = model.scores(tf.tensor2d(x, [5, D]));
      const p = model.probabilities(scores);
      return { shape: scores.shape, rowSums: Array.from(tf.sum(p, 1).dataSync()), predicted: Array.from(model.predict(scores).dataSync()) };
    });
    expect(result.shape).toEqual([5, K]);
    for (const s of result.rowSums) expect(s).toBeCloseTo(1, 5);
    expect(result.predicted.every((c) => c >= 0 && c < K)).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the full CIFAR-10 architecture builds and classifies 2 images', () => {
    const before = tf.memory().numTensors;
    const model = new Classifier(convMaxoutSpec(), 32 * 32 * 3, 10, Rng.fromSeed(1));
    expect(model.dropoutWidths().map((w) => w.width)).toEqual([3072, 16 * 16 * 96, 7 * 7 * 192, 5 * 5 * 192, 500]);
    const x = Rng.fromSeed(2).fillNormal(new Float32Array(2 * 3072));
    const scores = tf.tidy(() => model.scores(tf.tensor2d(x, [2, 3072])).dataSync());
    expect(scores.length).toBe(20);
    expect(Array.from(scores).every(Number.isFinite)).toBe(true);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('FGSM gradients flow through the conv layers to the input', () => {
    const model = new Classifier(tinySpec(), D, K, Rng.fromSeed(1));
    const before = tf.memory().numTensors;
    const x = Rng.fromSeed(2).fillUniform(new Float32Array(4 * D));
    const moved = tf.tidy(() => {
      const input = tf.tensor2d(x, [4, D]);
      const adv = fgsm(asAttackTarget(model), input, { eps: 0.1, clipMin: -10, clipMax: 10 });
      // Every coordinate with a non-zero gradient moves by exactly ε.
      return tf.mean(tf.cast(tf.greater(tf.abs(tf.sub(adv, input)), 0.05), 'float32')).dataSync()[0];
    });
    expect(tf.memory().numTensors).toBe(before);
    expect(moved).toBeGreaterThan(0.5);
    model.dispose();
  });

  it('trains: loss falls over a few epochs (with input dropout), and per-layer max-norms hold', async () => {
    const data = blobs(120, D, K, 7, 0.2);
    const model = new Classifier(tinySpec({ inputKeep: 0.8, hiddenKeep: 1, initRange: 0.3 }), D, K, Rng.fromSeed(1));
    const before = tf.memory().numTensors;
    const reports = await train(model, data, trainConfig({ epochs: 8, batchSize: 20, learningRate: 0.1, momentum: 0.9 }), Rng.fromSeed(2));
    expect(tf.memory().numTensors).toBe(before);
    const losses = reports.map((r) => r.meanLoss);
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    const limits = new Map([
      ['hidden0/W', 0.9],
      ['hidden1/W', 1.9365],
      ['hidden2/W', 1.9],
      ['output/W', 1.9365],
    ]);
    for (const [name, v] of model.namedVariables) {
      const limit = limits.get(name);
      if (limit === undefined) continue;
      const norms = tf.tidy(() => tf.sqrt(tf.sum(tf.square(v), 0)).dataSync());
      expect(Math.max(...norms), name).toBeLessThanOrEqual(limit * (1 + 1e-5));
    }
    model.dispose();
  });

  it('max-norm is per layer: a kernel beyond its own limit is scaled to it, another layer keeps the spec limit', () => {
    const model = new Classifier(tinySpec({ initRange: 5 }), D, K, Rng.fromSeed(1));
    model.applyConstraints();
    const maxNorm = (name: string) => {
      const v = model.namedVariables.find(([n]) => n === name)![1];
      return Math.max(...tf.tidy(() => tf.sqrt(tf.sum(tf.square(v), 0)).dataSync()));
    };
    expect(maxNorm('hidden0/W')).toBeCloseTo(0.9, 4);
    expect(maxNorm('hidden1/W')).toBeCloseTo(1.9365, 4);
    expect(maxNorm('hidden2/W')).toBeCloseTo(1.9, 4);
    model.dispose();
  });

  it('save / load round trip reproduces the scores', async () => {
    const model = new Classifier(tinySpec(), D, K, Rng.fromSeed(5));
    const directory = join(root, 'conv');
    await saveModel(model, directory, K);
    const { model: loaded } = await loadModel(directory);
    const x = Rng.fromSeed(6).fillUniform(new Float32Array(3 * D));
    const [a, b] = tf.tidy(() => {
      const input = tf.tensor2d(x, [3, D]);
      return [model.scores(input).dataSync(), loaded.scores(input).dataSync()];
    });
    expect(loaded.spec).toEqual(model.spec);
    expect(Array.from(b)).toEqual(Array.from(a));
    model.dispose();
    loaded.dispose();
  });
});
