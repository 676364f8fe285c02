import * as tf from '@tensorflow/tfjs-core';
import { cpus, hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { digestUnitFiles } from '../units/integrity.js';
import type { Unit, UnitKind, UnitOutput } from '../units/types.js';
import { runExamples, runFirstOrder, runFooling, runLinearity, runRubbish } from './handlers/analyses.js';
import type { Handler, UnitOf, WorkerContext } from './handlers/context.js';
import { runCraft, runEvaluate } from './handlers/evaluate.js';
import { runMasking } from './handlers/masking.js';
import { runTrain } from './handlers/train.js';

export { craft } from './handlers/craft.js';
export { MASKING_METRICS } from './handlers/masking.js';
export { loadPredictor, unitData, type WorkerContext } from './handlers/context.js';

// Every unit kind has exactly one handler, typed by its kind's config and artifacts; a new kind without one is a type error.
const HANDLERS: { [K in UnitKind]: Handler<K> } = {
  train: runTrain,
  craft: runCraft,
  evaluate: runEvaluate,
  examples: runExamples,
  rubbish: runRubbish,
  linearity: runLinearity,
  'first-order': runFirstOrder,
  fooling: runFooling,
  masking: runMasking,
};

const MB = 1024 * 1024;

/** Runs a unit on this thread's tfjs engine; fails it if it leaves tensors behind. */
export async function runUnit(context: WorkerContext, unit: Unit): Promise<UnitOutput> {
  // TypeScript cannot tie the kind read here to the config it is called with; HANDLERS' type does.
  const handler = HANDLERS[unit.config.kind] as (context: WorkerContext, unit: UnitOf<UnitKind>) => ReturnType<Handler<UnitKind>>;
  const startedAt = performance.timeOrigin + performance.now();
  const before = tf.memory().numTensors;
  const output = await handler(context, unit);
  const tensorsAfter = tf.memory().numTensors;
  if (tensorsAfter !== before) throw new Error(`unit ${unit.key} (${unit.role}) leaked ${tensorsAfter - before} tensors`);
  // The SHA-256 of the files it leaves for its readers (a model, examples), which check them on every read.
  const files = await digestUnitFiles(context.runsDir, unit.key, unit.config.kind);
  const finishedAt = performance.timeOrigin + performance.now();
  return {
    ...output,
    ...(files ? { files } : {}),
    backend: context.backend,
    computeSeconds: (finishedAt - startedAt) / 1000,
    run: {
      worker: `${hostname()}:${process.pid}:${threadId}`,
      startedAt,
      finishedAt,
      tensorsAfter,
      heapUsedMB: process.memoryUsage().heapUsed / MB,
      rssMB: process.memoryUsage.rss() / MB,
      threads: context.threads,
      cpu: cpus()[0]?.model || 'unknown',
    },
  };
}
