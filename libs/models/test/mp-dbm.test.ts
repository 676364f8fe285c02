import * as tf from '@tensorflow/tfjs-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { fgsm } from '@advx/attacks';
import {
  MpDbm, asAttackTarget, fitMpDbm, inpaint, linearDecayAt, loadModel, loadTrainedModel, meanField, mpBatchCost, mpDbmSpec, mpDbmTraining, multiPredictionCost, saveModel,
  type MpDbmCheckpoint, type MpDbmSpec, type TrainData,
} from '@advx/models';

/**
 * Mechanics of the MP-DBM (§9, P13): mean field reaches the fixed point of its self-consistency
 * equations and, with weak couplings, the exact marginals; gradients through the unrolled inference
 * match finite differences; multi-prediction training lowers a held-out cost; FGSM through
 * inference is the closed form where one exists.
 */

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));

/** A tiny MP-DBM with every parameter drawn from U(−scale, scale) (biases too), by our PRNG. */
function tinyModel(visible: number, hidden: number[], classes: number, scale: number, seed: number, overrides: Partial<MpDbmSpec> = {}): MpDbm {
  const spec: MpDbmSpec = {
    ...mpDbmSpec(),
    name: 'tiny',
    hidden: hidden.map((units) => ({ units, initBias: 0, maxNorm: null, init: { kind: 'uniform', range: scale } })),
    label: { maxNorm: null, init: { kind: 'uniform', range: scale } },
    iterations: 50,
    visibleBias: 'zero',
    ...overrides,
  };
  const model = new MpDbm(spec, visible, classes, Rng.fromSeed(seed));
  const rng = Rng.fromSeed(seed + 1);
  tf.tidy(() => {
    for (const [name, v] of model.namedVariables) if (name.endsWith('/b')) v.assign(tf.tensor(rng.fillUniform(new Float32Array(v.size), -scale, scale), v.shape));
  });
  return model;
}

/** The model's parameters as plain arrays: weights[j] row-major [below, units], biases[j]; visible bias. */
function plain(model: MpDbm): { vb: Float32Array; W: { w: Float32Array; rows: number; cols: number }[]; b: Float32Array[] } {
  const named = new Map(model.namedVariables);
  const layers = model.namedVariables.filter(([n]) => n.endsWith('/W')).map(([n]) => n.slice(0, -2));
  return {
    vb: named.get('visible/b')!.dataSync() as Float32Array,
    W: layers.map((l) => ({ w: named.get(`${l}/W`)!.dataSync() as Float32Array, rows: named.get(`${l}/W`)!.shape[0]!, cols: named.get(`${l}/W`)!.shape[1]! })),
    b: layers.map((l) => named.get(`${l}/b`)!.dataSync() as Float32Array),
  };
}

const rows = (t: tf.Tensor2D): number[][] => t.arraySync();

describe('mean field', () => {
  it('ends at a fixed point of the self-consistency equations (labels unobserved; and with pixels hidden)', () => {
    const model = tinyModel(6, [5, 4], 3, 0.8, 1);
    const p = plain(model);
    const x = tf.tensor2d(Rng.fromSeed(2).fillUniform(new Float32Array(4 * 6)), [4, 6]);
    const drop = tf.tensor2d([1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 1], [4, 6]);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3), 'float32') as tf.Tensor2D;
    const yDrop = tf.tensor2d([1, 0, 1, 1], [4, 1]);
    const before = tf.memory().numTensors;
    const [mfStates, inpStates, vHat] = tf.tidy(() => {
      const mf = meanField(model.params, x, 200);
      const ip = inpaint(model.params, x, drop, y, yDrop, 200);
      return [mf.states.map(rows), ip.states.map(rows), rows(tf.add(tf.mul(tf.sigmoid(ip.visibleLogits), drop), tf.mul(x, tf.sub(1, drop))) as tf.Tensor2D)];
    });
    expect(tf.memory().numTensors).toBe(before);
    const xs = rows(x);
    /** Residual of every equation: h0 = σ(v W0 + h1 W1ᵀ + b0), h1 = σ(h0 W1 + y W2ᵀ + b1), y = softmax(h1 W2 + b2). */
    const residual = (v: number[][], [h0, h1, yy]: number[][][], labelClamped: boolean[] | null) => {
      let worst = 0;
      for (let n = 0; n < v.length; n++) {
        const input = (j: number, unit: number, below: number[], above: number[] | null) => {
          let z = p.b[j][unit];
          for (let i = 0; i < below.length; i++) z += below[i] * p.W[j].w[i * p.W[j].cols + unit];
          if (above) for (let k = 0; k < above.length; k++) z += above[k] * p.W[j + 1].w[unit * p.W[j + 1].cols + k];
          return z;
        };
        for (let u = 0; u < 5; u++) worst = Math.max(worst, Math.abs(h0[n][u] - sigmoid(input(0, u, v[n], h1[n]))));
        for (let u = 0; u < 4; u++) worst = Math.max(worst, Math.abs(h1[n][u] - sigmoid(input(1, u, h0[n], yy[n]))));
        if (!labelClamped?.[n]) {
          const z = [0, 1, 2].map((k) => input(2, k, h1[n], null));
          const m = Math.max(...z);
          const s = z.reduce((a, zk) => a + Math.exp(zk - m), 0);
          for (let k = 0; k < 3; k++) worst = Math.max(worst, Math.abs(yy[n][k] - Math.exp(z[k] - m) / s));
        }
      }
      return worst;
    };
    expect(residual(xs, mfStates, null)).toBeLessThan(1e-5);
    // Inpainting: the shown labels stay the data; the hidden pixels satisfy v = σ(h0 W0ᵀ + b_v) too.
    expect(residual(vHat, inpStates, [false, true, false, false])).toBeLessThan(1e-5);
    const ds = rows(drop);
    let pixelWorst = 0;
    for (let n = 0; n < 4; n++)
      for (let i = 0; i < 6; i++) {
        if (!ds[n][i]) {
          expect(vHat[n][i]).toBeCloseTo(xs[n][i], 6);
          continue;
        }
        let z = p.vb[i];
        for (let u = 0; u < 5; u++) z += inpStates[0][n][u] * p.W[0].w[i * 5 + u];
        pixelWorst = Math.max(pixelWorst, Math.abs(vHat[n][i] - sigmoid(z)));
      }
    expect(pixelWorst).toBeLessThan(1e-5);
    expect(inpStates[2][1]).toEqual([0, 1, 0]);
    tf.dispose([x, drop, y, yDrop]);
    model.dispose();
  });

  /** Exact p(h⁰, h¹, y | v) of a 3-visible, 2 + 2 hidden, 2-class DBM by enumerating its 32 states. */
  function exactMarginals(model: MpDbm, v: number[]): { h0: number[]; h1: number[]; y: number[] } {
    const p = plain(model);
    const w = (j: number, i: number, k: number) => p.W[j].w[i * p.W[j].cols + k];
    const h0m = [0, 0];
    const h1m = [0, 0];
    const ym = [0, 0];
    let z = 0;
    for (let a = 0; a < 4; a++)
      for (let b = 0; b < 4; b++)
        for (let c = 0; c < 2; c++) {
          const h0 = [a & 1, (a >> 1) & 1];
          const h1 = [b & 1, (b >> 1) & 1];
          const y = [c === 0 ? 1 : 0, c === 1 ? 1 : 0];
          let negE = 0;
          for (let k = 0; k < 2; k++) negE += h0[k] * p.b[0][k] + h1[k] * p.b[1][k] + y[k] * p.b[2][k];
          for (let i = 0; i < 3; i++) for (let k = 0; k < 2; k++) negE += v[i] * w(0, i, k) * h0[k];
          for (let i = 0; i < 2; i++) for (let k = 0; k < 2; k++) negE += h0[i] * w(1, i, k) * h1[k] + h1[i] * w(2, i, k) * y[k];
          const q = Math.exp(negE);
          z += q;
          for (let k = 0; k < 2; k++) {
            h0m[k] += q * h0[k];
            h1m[k] += q * h1[k];
            ym[k] += q * y[k];
          }
        }
    return { h0: h0m.map((m) => m / z), h1: h1m.map((m) => m / z), y: ym.map((m) => m / z) };
  }

  function worstGap(scale: number, seed: number): number {
    const model = tinyModel(3, [2, 2], 2, scale, seed);
    const vs = [[1, 0, 1], [0, 1, 1], [1, 1, 0]];
    const states = tf.tidy(() => meanField(model.params, tf.tensor2d(vs), 100).states.map(rows));
    let worst = 0;
    vs.forEach((v, n) => {
      const exact = exactMarginals(model, v);
      [exact.h0, exact.h1, exact.y].forEach((m, layer) => m.forEach((value, k) => (worst = Math.max(worst, Math.abs(states[layer][n][k] - value)))));
    });
    model.dispose();
    return worst;
  }

  it('matches the marginals of brute-force enumeration when the couplings are weak, and not when they are strong', () => {
    // Naive mean field is exact to first order in the couplings: |W| ≤ .1 leaves errors of order .1².
    const weak = Math.max(...[3, 4, 5].map((seed) => worstGap(0.1, seed)));
    expect(weak).toBeLessThan(1e-3);
    // The comparison can fail: with |W| up to 3 mean field's factorised posterior is visibly off.
    const strong = Math.max(...[3, 4, 5].map((seed) => worstGap(3, seed)));
    expect(strong).toBeGreaterThan(10 * weak);
    expect(strong).toBeGreaterThan(0.02);
  });
});

describe('gradients through the unrolled inference', () => {
  /** Central differences in float32: a smooth tiny model, h = 1e-2 (truncation ~h², rounding ~1e-7/h), |∇ − FD| ≤ 2e-4 + 1% of |FD|. */
  const H = 1e-2;
  const close = (analytic: number, numeric: number) => Math.abs(analytic - numeric) <= 2e-4 + 0.01 * Math.abs(numeric);

  it('of the classification loss with respect to the pixels equal finite differences', () => {
    const model = tinyModel(6, [5, 4], 3, 0.8, 7, { iterations: 6 });
    const xs = Array.from(Rng.fromSeed(8).fillUniform(new Float32Array(6)));
    const label = tf.tensor1d([2], 'int32');
    const target = asAttackTarget(model);
    const loss = (values: number[]) => tf.tidy(() => target.loss(target.scores(tf.tensor2d([values])), target.targets(label)).dataSync()[0]);
    const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => target.loss(target.scores(x as tf.Tensor2D), target.targets(label)))(tf.tensor2d([xs])).dataSync());
    let largest = 0;
    for (let i = 0; i < 6; i++) {
      const plus = [...xs];
      const minus = [...xs];
      plus[i] += H;
      minus[i] -= H;
      const numeric = (loss(plus) - loss(minus)) / (2 * H);
      largest = Math.max(largest, Math.abs(numeric));
      expect(close(grad[i], numeric), `pixel ${i}: ${grad[i]} vs ${numeric}`).toBe(true);
    }
    expect(largest).toBeGreaterThan(0.01); // a gradient that is there to compare
    label.dispose();
    model.dispose();
  });

  it('of the multi-prediction cost with respect to the weights and biases equal finite differences', () => {
    const model = tinyModel(6, [5, 4], 3, 0.8, 9, { iterations: 5 });
    const x = tf.tensor2d(Rng.fromSeed(10).fillUniform(new Float32Array(3 * 6)).map((u) => (u < 0.5 ? 0 : 1)), [3, 6]);
    const drop = tf.tensor2d([1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0], [3, 6]);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 2, 1], 'int32'), 3), 'float32') as tf.Tensor2D;
    const yDrop = tf.tensor2d([1, 0, 1], [3, 1]);
    const cost = () => multiPredictionCost(inpaint(model.params, x, drop, y, yDrop, 5), x, drop, y, yDrop);
    const { grads } = tf.variableGrads(cost, model.variables);
    let checked = 0;
    for (const [name, variable] of model.namedVariables) {
      const g = grads[variable.name].dataSync();
      const values = variable.dataSync().slice();
      for (const index of [0, Math.floor(values.length / 2), values.length - 1]) {
        const at = (delta: number) => {
          const changed = values.slice();
          changed[index] += delta;
          variable.assign(tf.tensor(changed, variable.shape));
          return tf.tidy(() => cost().dataSync()[0]);
        };
        // The cost is ~.1 (a mean over pixel slots), its gradients ~1e-2: a tighter absolute floor.
        const numeric = (at(H) - at(-H)) / (2 * H);
        variable.assign(tf.tensor(values, variable.shape));
        expect(Math.abs(g[index] - numeric), `${name}[${index}]: ${g[index]} vs ${numeric}`).toBeLessThanOrEqual(3e-5 + 0.01 * Math.abs(numeric));
        checked++;
      }
    }
    expect(checked).toBe(21);
    tf.dispose([x, drop, y, yDrop, ...Object.values(grads)]);
    model.dispose();
  });
});

/** Three binary prototypes of 16 pixels with 10% of the pixels flipped; the label is the prototype. */
function prototypes(count: number, seed: number, draws = seed): TrainData {
  const protoRng = Rng.fromSeed(seed);
  const protos = [0, 1, 2].map(() => Array.from({ length: 16 }, () => (protoRng.uniform() < 0.5 ? 1 : 0)));
  const rng = Rng.fromSeed(draws).fork('draws');
  const images = new Float32Array(count * 16);
  const labels = new Uint8Array(count);
  for (let n = 0; n < count; n++) {
    const c = rng.int(3);
    labels[n] = c;
    for (let j = 0; j < 16; j++) images[n * 16 + j] = rng.uniform() < 0.1 ? 1 - protos[c][j] : protos[c][j];
  }
  return { images, labels, count };
}

describe('multi-prediction training', () => {
  const smallSpec = (): MpDbmSpec => ({
    ...mpDbmSpec(),
    name: 'small',
    hidden: [
      { units: 12, initBias: -0.5, maxNorm: 3, init: { kind: 'sparse', count: 4, stdev: 1 } },
      { units: 8, initBias: -0.5, maxNorm: 3, init: { kind: 'uniform', range: 0.05 } },
    ],
    label: { maxNorm: 5, init: { kind: 'sparse', count: 3, stdev: 1 } },
    iterations: 5,
  });
  const training = (epochs: number) => mpDbmTraining(epochs, { batchSize: 20, learningRate: { initial: 3, startEpoch: 1, saturateEpoch: 100, decayFactor: 0.1 }, binarize: 'none' });

  /** The held-out multi-prediction cost under the same masks every time (a fresh stream of one seed), and the classifier's cross-entropy. */
  function heldOut(model: MpDbm, data: TrainData): { mp: number; crossEntropy: number; error: number } {
    return tf.tidy(() => {
      const x = tf.tensor2d(data.images, [data.count, 16]);
      const labels = tf.tensor1d(data.labels, 'int32');
      const mp = mpBatchCost(model, x, labels, 0.5, Rng.fromSeed(99)).dataSync()[0];
      const scores = model.scores(x);
      const crossEntropy = model.loss(scores, model.targets(labels)).dataSync()[0];
      const error = tf.mean(tf.cast(tf.notEqual(model.predict(scores), labels), 'float32')).dataSync()[0];
      return { mp, crossEntropy, error };
    });
  }

  it('lowers the held-out multi-prediction cost and classification cross-entropy on a small problem, leaking no tensors', async () => {
    const train = prototypes(600, 11);
    const test = prototypes(300, 11, 111); // the same prototypes, other draws
    const model = new MpDbm(smallSpec(), 16, 3, Rng.fromSeed(12));
    const before = heldOut(model, test);
    const tensors = tf.memory().numTensors;
    const outcome = await fitMpDbm(model, { train, validation: null }, { training: training(15), earlyStopping: null }, Rng.fromSeed(13));
    expect(tf.memory().numTensors).toBe(tensors);
    const after = heldOut(model, test);
    expect(outcome.history).toHaveLength(15);
    expect(outcome.history[14].trainLoss).toBeLessThan(outcome.history[0].trainLoss);
    expect(after.mp).toBeLessThan(0.7 * before.mp);
    expect(after.crossEntropy).toBeLessThan(0.5 * before.crossEntropy);
    expect(after.error).toBeLessThan(0.1);
    model.dispose();
  });

  it('resumes from a per-epoch checkpoint to the same weights as an uninterrupted run', async () => {
    const train = prototypes(200, 14);
    const validation = prototypes(100, 14);
    const config = { training: training(4), earlyStopping: { patience: 100, adversarialEps: null } };
    const run = async (resume: MpDbmCheckpoint | null) => {
      const model = new MpDbm(smallSpec(), 16, 3, Rng.fromSeed(15));
      let atTwo: MpDbmCheckpoint | null = null;
      // Saved after every epoch; the one after epoch 2 is kept (a copy: the run goes on mutating its history).
      await fitMpDbm(model, { train, validation }, config, Rng.fromSeed(16), { resume, checkpoint: { due: () => true, save: async (c) => void (c.trainer.epoch === 2 && (atTwo = structuredClone(c))) } });
      const weights = model.variables.map((v) => Array.from(v.dataSync()));
      model.dispose();
      return { weights, atTwo: atTwo as MpDbmCheckpoint | null };
    };
    const whole = await run(null);
    expect(whole.atTwo?.history).toHaveLength(2);
    const resumed = await run(whole.atTwo);
    expect(resumed.weights).toEqual(whole.weights);
  });
});

describe('FGSM through inference', () => {
  it('equals the closed form x + ε·sign((p − y) Wᵀ) when the label sits on the pixels (no hidden layer)', () => {
    const model = tinyModel(8, [], 4, 1, 17, { iterations: 1 });
    const p = plain(model);
    const n = 5;
    const xs = Rng.fromSeed(18).fillUniform(new Float32Array(n * 8));
    const labels = [0, 1, 2, 3, 1];
    const x = tf.tensor2d(xs, [n, 8]);
    const adv = fgsm(asAttackTarget(model), x, { eps: 0.25, labels: tf.tensor1d(labels, 'int32'), clipMin: -Infinity, clipMax: Infinity }).arraySync();
    for (let r = 0; r < n; r++) {
      const z = [0, 1, 2, 3].map((k) => p.b[0][k] + Array.from({ length: 8 }, (_, i) => xs[r * 8 + i] * p.W[0].w[i * 4 + k]).reduce((a, b) => a + b, 0));
      const m = Math.max(...z);
      const e = z.map((zk) => Math.exp(zk - m));
      const prob = e.map((ek) => ek / e.reduce((a, b) => a + b, 0));
      for (let i = 0; i < 8; i++) {
        const g = [0, 1, 2, 3].reduce((s, k) => s + (prob[k] - (labels[r] === k ? 1 : 0)) * p.W[0].w[i * 4 + k], 0);
        expect(adv[r][i]).toBeCloseTo(xs[r * 8 + i] + 0.25 * Math.sign(g), 6);
      }
    }
    x.dispose();
    model.dispose();
  });
});

describe('the MP-DBM model', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mp-dbm-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('saves and loads in the tfjs layout with the same scores, and the classifier loader refuses it', async () => {
    const model = tinyModel(6, [5, 4], 3, 0.8, 19, { iterations: 4, classify: 'multi-inference' });
    await saveModel(model, join(dir, 'm'), 3);
    const { model: loaded, numClasses } = await loadTrainedModel(join(dir, 'm'));
    expect(numClasses).toBe(3);
    expect(loaded).toBeInstanceOf(MpDbm);
    const x = tf.tensor2d(Rng.fromSeed(20).fillUniform(new Float32Array(12)), [2, 6]);
    expect(loaded.scores(x).arraySync()).toEqual(model.scores(x).arraySync());
    await expect(loadModel(join(dir, 'm'))).rejects.toThrow(/an MP-DBM, not a feed-forward classifier/);
    tf.dispose([x]);
    model.dispose();
    loaded.dispose();
  });

  it('reads the same weights with multi-inference as a model whose spec says so', () => {
    const model = tinyModel(6, [5, 4], 3, 0.8, 23, { iterations: 5 });
    const multi = tinyModel(6, [5, 4], 3, 0.8, 23, { iterations: 5, classify: 'multi-inference' });
    const x = tf.tensor2d(Rng.fromSeed(24).fillUniform(new Float32Array(12)), [2, 6]);
    const [viaReading, viaSpec, meanFieldScores] = [model.reading('multi-inference').scores(x), multi.scores(x), model.scores(x)];
    expect(viaReading.arraySync()).toEqual(viaSpec.arraySync());
    // A different procedure: the scores differ from mean field's.
    expect(Math.max(...tf.abs(tf.sub(viaReading, meanFieldScores)).dataSync())).toBeGreaterThan(1e-4);
    tf.dispose([x, viaReading, viaSpec, meanFieldScores]);
    model.dispose();
    multi.dispose();
  });

  it('rejects a bad spec with one line naming the field', () => {
    const spec = mpDbmSpec();
    expect(() => new MpDbm({ ...spec, iterations: 0 }, 784, 10, Rng.fromSeed(1))).toThrow(/^mp-dbm spec: iterations must be an integer ≥ 1, got 0$/);
    expect(() => new MpDbm({ ...spec, hidden: [{ ...spec.hidden[0], init: { kind: 'sparse', count: 900, stdev: 1 } }] }, 784, 10, Rng.fromSeed(1))).toThrow(/hidden\[0\]\.init\.count/);
    expect(() => new MpDbm({ ...spec, label: { ...spec.label, maxNorm: -1 } }, 784, 10, Rng.fromSeed(1))).toThrow(/label\.maxNorm/);
  });

  it("is mpdbm.yaml's recipe by default (784 → 2,087 → 3,200 → 10, 14 iterations, its norms, biases, initialisation and optimiser)", () => {
    const spec = mpDbmSpec();
    expect(spec.hidden).toEqual([
      { units: 2087, initBias: -0.710467, maxNorm: 1.809978, init: { kind: 'sparse', count: 15, stdev: 1 } },
      { units: 3200, initBias: -0.393587, maxNorm: 2.666304, init: { kind: 'uniform', range: 0.00638830865761 } },
    ]);
    expect(spec.label).toEqual({ maxNorm: 5.175683, init: { kind: 'sparse', count: 23, stdev: 1 } });
    expect([spec.iterations, spec.visibleBias, spec.classify]).toEqual([14, 'marginals', 'mean-field']);
    const training = mpDbmTraining(10);
    expect(training).toMatchObject({ batchSize: 100, dropProbability: 0.5, binarize: 'stochastic', momentum: { initial: 0.5, final: 0.732716, startEpoch: 1, saturateEpoch: 2 } });
    expect(training.learningRate).toEqual({ initial: 15.146493, startEpoch: 1, saturateEpoch: 868, decayFactor: 0.020379 });
  });

  it("follows mpdbm.yaml's learning-rate decay (LinearDecayOverEpoch start 1, saturate 868, factor .020379)", () => {
    const schedule = mpDbmTraining(1).learningRate;
    const step = (15.146493 * (1 - 0.020379)) / 868;
    expect(linearDecayAt(schedule, 1)).toBeCloseTo(15.146493 - step, 9);
    expect(linearDecayAt(schedule, 100)).toBeCloseTo(15.146493 - 100 * step, 9);
    expect(linearDecayAt(schedule, 868)).toBeCloseTo(15.146493 * 0.020379, 9);
    expect(linearDecayAt(schedule, 2000)).toBeCloseTo(15.146493 * 0.020379, 9);
  });
});
