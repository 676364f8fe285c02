import * as tf from '@tensorflow/tfjs-core';
import { it } from 'vitest';
import { Rng } from '@advx/data';
import { maxoutSpec, rbfSpec, train } from '@advx/models';
import { blobs, evaluate, makeModel, trainConfig } from './helpers.js';
const D = 20, K = 3;
it('scratch', async () => {
  const data = blobs(300, D, K, 2);
  for (const [name, spec, cfg] of [
    ['maxout init0.3 lr0.2', maxoutSpec({ units: 8, pieces: 3, initRange: 0.3 }), trainConfig({ epochs: 8, learningRate: 0.2, finalMomentum: 0.9 })],
    ['maxout init0.3 lr0.5 nodrop', maxoutSpec({ units: 8, pieces: 3, initRange: 0.3, inputKeep: 1, hiddenKeep: 1 }), trainConfig({ epochs: 8, learningRate: 0.2, finalMomentum: 0.9 })],
    ['maxout init0.3 lr0.05 mom.9', maxoutSpec({ units: 8, pieces: 3, initRange: 0.3 }), trainConfig({ epochs: 8, learningRate: 0.05, initialMomentum: 0.9, finalMomentum: 0.9, batchSize: 10 })],
    ['maxout init0.1 lr0.1 bs10', maxoutSpec({ units: 8, pieces: 3, initRange: 0.1 }), trainConfig({ epochs: 8, learningRate: 0.1, batchSize: 10 })],
    ['maxout init0.1 l1', maxoutSpec({ units: 8, pieces: 3, initRange: 0.1, firstLayerL1: 0.01 }), trainConfig({ epochs: 4, learningRate: 0.3 })],
    ['maxout init0.1 no l1', maxoutSpec({ units: 8, pieces: 3, initRange: 0.1 }), trainConfig({ epochs: 4, learningRate: 0.3 })],
    ['rbf lr .1', rbfSpec(), trainConfig({ epochs: 6, learningRate: 0.1 })],
    ['rbf lr .02', rbfSpec(), trainConfig({ epochs: 6, learningRate: 0.02 })],
    ['rbf lr .5', rbfSpec(), trainConfig({ epochs: 6, learningRate: 0.5 })],
    ['rbf lr .01 bs10', rbfSpec(), trainConfig({ epochs: 10, learningRate: 0.01, batchSize: 10 })],
  ] as const) {
    const model = makeModel(spec, D, K, 4);
    const r = await train(model, data, cfg, Rng.fromSeed(4));
    const l1 = tf.tidy(() => tf.sum(tf.abs(model.firstLayerWeights)).dataSync()[0]);
    console.log(name, r.map((x) => x.meanLoss.toFixed(3)).join(' '), JSON.stringify(evaluate(model, data, D)), 'l1', l1.toFixed(2));
    model.dispose();
  }
});
