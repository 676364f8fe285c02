import * as tf from '@tensorflow/tfjs-core';
import { fgsm } from '@advx/attacks';
import { Rng } from '@advx/data';
import { DeviceData, MpDbm, MpDbmTrainer, asAttackTarget, mpDbmTraining, type MpDbmSpec, type TrainData } from '@advx/models';
import { MP_DBM_SPECS } from '../catalogue/experiments/mp-dbm.js';

/**
 * The MP-DBM's two costs (§9, P13), timed apart from the maxout bench: one multi-prediction
 * training step (inpainting with half the pixels and labels hidden, backpropagated through every
 * mean-field iteration) and FGSM through the classifier's mean-field inference, both at the `cpu`
 * preset's size (500 + 500 units, 6 iterations), the one sweeps here train.
 */
/** The bench settings this reads (measure.ts ChildSettings has them). */
export interface MpDbmBenchSettings {
  steps: number;
  warmup: number;
  reps: number;
  fgsmCount: number;
  fgsmBatch: number;
}

/** Median, range and samples of the timed repetitions (as measure.ts reports its own). */
export interface Timing {
  median: number;
  min: number;
  max: number;
  samples: number[];
}

export interface MpDbmBench {
  spec: string;
  train_ex_s: number;
  fgsm_ex_s: number;
  timings: Record<'train' | 'fgsm', Timing>;
}

const INPUT = 784;
const CLASSES = 10;

function median(samples: number[]): Timing {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return { median: sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2, min: sorted[0], max: sorted[sorted.length - 1], samples };
}

export async function timeMpDbm(s: MpDbmBenchSettings, spec: MpDbmSpec = MP_DBM_SPECS.cpu): Promise<MpDbmBench> {
  const rng = Rng.fromSeed(7);
  // The paper's batch of 100; at most 5 batches per timed epoch (an MP step costs ~40 maxout steps).
  const batch = 100;
  const count = batch * Math.min(s.steps, 5);
  const data: TrainData = { images: rng.fillUniform(new Float32Array(count * INPUT)), labels: Uint8Array.from({ length: count }, () => rng.int(CLASSES)), count };
  const model = new MpDbm(spec, INPUT, CLASSES, Rng.fromSeed(8));
  const device = new DeviceData(data, INPUT);
  // The recipe's lr would be huge on noise; the work of a step does not depend on its value.
  const trainer = new MpDbmTrainer(model, device, mpDbmTraining(s.warmup + s.reps, { learningRate: { initial: 0.01, startEpoch: 1, saturateEpoch: 1, decayFactor: 1 } }), Rng.fromSeed(9));
  const train: number[] = [];
  const attack: number[] = [];
  try {
    for (let i = 0; i < s.warmup + s.reps; i++) {
      const { examplesPerSecond } = await trainer.runEpoch();
      if (i >= s.warmup) train.push(examplesPerSecond);
    }
    const target = asAttackTarget(model);
    const n = Math.min(s.fgsmCount, count);
    for (let i = 0; i < s.warmup + s.reps; i++) {
      const t = performance.now();
      for (let start = 0; start < n; start += s.fgsmBatch) {
        const size = Math.min(s.fgsmBatch, n - start);
        tf.tidy(() => {
          const x = tf.tensor2d(data.images.subarray(start * INPUT, (start + size) * INPUT), [size, INPUT]);
          tf.sum(fgsm(target, x, { eps: 0.25, labels: tf.tensor1d(data.labels.subarray(start, start + size), 'int32') })).dataSync();
        });
      }
      if (i >= s.warmup) attack.push(n / ((performance.now() - t) / 1000));
    }
  } finally {
    trainer.dispose();
    device.dispose();
    model.dispose();
  }
  const timings = { train: median(train), fgsm: median(attack) };
  return { spec: spec.name, train_ex_s: timings.train.median, fgsm_ex_s: timings.fgsm.median, timings };
}
