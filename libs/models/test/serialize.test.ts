import * as tf from '@tensorflow/tfjs-core';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from '@advx/data';
import { loadModel, logisticRegressionSpec, maxoutSpec, rbfSpec, saveModel, train, type ModelSpec } from '@advx/models';
import { makeModel, noiseData, trainConfig } from './helpers.js';

const D = 12;
const K = 3;

let root: string;
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'advx-models-test-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const x = () => tf.tensor2d(Rng.fromSeed(99).fillUniform(new Float32Array(10 * D)), [10, D]);

/** Trains a small model a little (so weights are not just the seeded init), saves it under `name`. */
async function savedModel(spec: ModelSpec, name: string, numClasses = K) {
  const model = makeModel(spec, D, numClasses, 3);
  await train(model, noiseData(40, D, numClasses, 4), trainConfig({ batchSize: 10 }), Rng.fromSeed(5));
  const directory = join(root, name);
  await saveModel(model, directory, numClasses);
  return { model, directory };
}

describe('saveModel / loadModel', () => {
  it.each<[string, ModelSpec, number]>([
    ['maxout', maxoutSpec({ units: 5, pieces: 2, initRange: 0.3 }), K],
    ['logistic', logisticRegressionSpec({ initRange: 0.3 }), 2],
    ['rbf', rbfSpec(), K],
  ])('round trip reproduces the scores exactly (%s)', async (name, spec, numClasses) => {
    const { model, directory } = await savedModel(spec, `round-${name}`, numClasses);
    const { model: loaded, numClasses: loadedClasses } = await loadModel(directory);
    expect(loadedClasses).toBe(numClasses);
    expect(loaded.spec).toEqual(spec);
    expect(loaded.inputSize).toBe(D);
    const input = x();
    const [a, b] = [model.scores(input), loaded.scores(input)];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    for (const [[nameA, va], [nameB, vb]] of model.namedVariables.map((entry, i) => [entry, loaded.namedVariables[i]] as const)) {
      expect(nameB).toBe(nameA);
      expect(Array.from(vb.dataSync())).toEqual(Array.from(va.dataSync()));
    }
    tf.dispose([input, a, b]);
    model.dispose();
    loaded.dispose();
  });

  it('writes the tfjs artifact layout: model.json with a weightsManifest, plus weights.bin', async () => {
    const { model, directory } = await savedModel(maxoutSpec({ units: 5, pieces: 2 }), 'layout');
    expect((await readdir(directory)).sort()).toEqual(['model.json', 'weights.bin']);
    const stored = JSON.parse(await readFile(join(directory, 'model.json'), 'utf8'));
    expect(stored.format).toBe('advx-classifier');
    expect(stored.weightsManifest).toHaveLength(1);
    expect(stored.weightsManifest[0].paths).toEqual(['weights.bin']);
    const entries = stored.weightsManifest[0].weights as { name: string; shape: number[]; dtype: string }[];
    expect(entries.map((e) => [e.name, e.shape, e.dtype])).toEqual(model.namedVariables.map(([name, v]) => [name, v.shape, 'float32']));
    const bytes = (await readFile(join(directory, 'weights.bin'))).byteLength;
    expect(bytes).toBe(4 * model.namedVariables.reduce((s, [, v]) => s + v.size, 0));
    // And tfjs itself can decode the weights from the manifest.
    const decoded = tf.io.decodeWeights(new Uint8Array(await readFile(join(directory, 'weights.bin'))).buffer, entries as tf.io.WeightsManifestEntry[]);
    expect(Array.from(decoded['hidden1/W'].dataSync())).toEqual(Array.from(model.namedVariables[2][1].dataSync()));
    tf.dispose(Object.values(decoded));
    model.dispose();
  });

  it('saving over an existing model replaces it and leaves no staging directory', async () => {
    const first = await savedModel(maxoutSpec({ units: 5, pieces: 2 }), 'overwrite');
    const second = makeModel(logisticRegressionSpec({ initRange: 0.4 }), D, 2, 8);
    await saveModel(second, first.directory, 2);
    const { model: loaded } = await loadModel(first.directory);
    expect(loaded.spec.name).toBe('logistic-regression');
    expect((await readdir(root)).filter((n) => n.includes('.tmp-'))).toEqual([]);
    [first.model, second, loaded].forEach((m) => m.dispose());
  });

  it('rejects a tampered model.json whose weight shape disagrees with the spec, naming the weight', async () => {
    const { model, directory } = await savedModel(maxoutSpec({ units: 5, pieces: 2 }), 'tampered');
    model.dispose();
    const path = join(directory, 'model.json');
    const original = await readFile(path, 'utf8');
    const tamper = async (edit: (entries: { name: string; shape: number[] }[]) => void) => {
      const stored = JSON.parse(original);
      edit(stored.weightsManifest[0].weights);
      await writeFile(path, JSON.stringify(stored));
    };
    const before = tf.memory().numTensors;

    // Same number of values, transposed shape.
    await tamper((entries) => entries.find((e) => e.name === 'hidden1/W')!.shape.reverse());
    await expect(loadModel(directory)).rejects.toThrow(/hidden1\/W/);
    expect(tf.memory().numTensors).toBe(before);

    // A different number of values.
    await tamper((entries) => (entries.find((e) => e.name === 'hidden0/W')!.shape = [D, 11]));
    await expect(loadModel(directory)).rejects.toThrow(/hidden0\/W/);
    expect(tf.memory().numTensors).toBe(before);

    // A weight missing from the manifest.
    await tamper((entries) => entries.pop());
    await expect(loadModel(directory)).rejects.toThrow(/output\/b.*missing/);
    expect(tf.memory().numTensors).toBe(before);

    // Not ours at all.
    await writeFile(path, JSON.stringify({ ...JSON.parse(original), format: 'layers-model' }));
    await expect(loadModel(directory)).rejects.toThrow(/not an advx model/);
  });

  it('loading leaves only the model’s variables allocated', async () => {
    const { model, directory } = await savedModel(maxoutSpec({ units: 5, pieces: 2 }), 'memory');
    const before = tf.memory().numTensors;
    const { model: loaded } = await loadModel(directory);
    expect(tf.memory().numTensors).toBe(before + loaded.variables.length);
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
    model.dispose();
  });
});
