// Learning curves of a training unit, written live as TensorBoard event files under
// `runs/<key>/tensorboard/` (`tensorboard --logdir <out>/runs` shows every unit of a sweep, one run
// per key). report.html draws the same numbers from result.json's history (report/figures.ts).
import * as tf from '@tensorflow/tfjs-core';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { EpochRecord } from '@advx/models';

/** What tfjs-node's tf.node.summaryFileWriter returns, as far as we use it. */
interface SummaryFileWriter {
  scalar(name: string, value: number, step: number): void;
  flush(): void;
}

/**
 * The parts of tfjs-node's SummaryFileWriter that its typings mark private: its resource handle
 * (a tensor the engine counts) and the backend that makes a new one.
 */
interface NativeSummaryFileWriter extends SummaryFileWriter {
  resourceHandle: tf.Tensor;
  backend: { summaryWriter(logdir: string): tf.Tensor };
}

interface TfjsNode {
  node: { summaryFileWriter(logdir: string): SummaryFileWriter };
}

const require = createRequire(import.meta.url);

/** Writes one scalar per curve and epoch; `close` flushes and frees what it holds. */
export interface CurveWriter {
  /** `step` is the epoch's index over both stages, 1-based (history index + 1). */
  epoch(record: EpochRecord, step: number): void;
  close(): void;
}

const NO_WRITER: CurveWriter = { epoch: () => {}, close: () => {} };

/**
 * TensorBoard tags, one per EpochRecord field (two for the monitor's reading). Stage 1's validation error is the one early stopping
 * selects on: under FGSM when the rule says so (§6), which gets its own tag; stage 2's is always clean.
 */
export function curveScalars(record: EpochRecord, adversarialSelection: boolean): [string, number][] {
  const scalars: [string, number][] = [['train/loss', record.trainLoss]];
  if (record.validationError !== null) {
    scalars.push([record.stage === 1 && adversarialSelection ? 'validation/adversarial_error' : 'validation/error', record.validationError]);
  }
  if (record.validationObjective !== null) scalars.push(['validation/objective', record.validationObjective]);
  // The catastrophic-overfitting monitor (TrainConfig.monitor): a fixed batch of training examples.
  if (record.monitor) scalars.push(['monitor/pgd_accuracy', record.monitor.pgdAccuracy], ['monitor/clean_accuracy', record.monitor.cleanAccuracy]);
  scalars.push(['schedule/learning_rate', record.learningRate], ['schedule/momentum', record.momentum]);
  return scalars.filter(([, value]) => Number.isFinite(value));
}

/**
 * Opens the event-file writer of one training unit. Only native TensorFlow has the summary kernels
 * (tfjs-node's SummaryWriter ops): on wasm and cpu this writes nothing, and the learning curves are
 * still in result.json and report.html.
 *
 * A resumed unit appends to the same directory (a new events file beside the old one). The epochs
 * between its last checkpoint and the interruption are trained again and written again at the
 * same steps; TensorBoard shows the latest value of a step, which is the one the run kept.
 *
 * Tensors: the unit runner fails a unit that leaves a tensor behind, and tfjs-node's writer holds
 * one (its resource handle) for the thread's lifetime, in a cache by logdir, plus four input
 * scalars it never disposes. We free the scalars at once (tf.tidy) and the handle in `close`. The
 * writer resource itself lives on inside TensorFlow (it is shared by the name "logdir:<dir>") with
 * its file open until the worker thread ends, when TensorFlow closes it: a later unit of the same
 * key on this thread (a retry) gets tfjs's cached writer back with a disposed handle, so it is given
 * a fresh handle to that same resource.
 */
export function openCurveWriter(backend: string, directory: string, adversarialSelection: boolean): CurveWriter {
  if (backend !== 'tensorflow') return NO_WRITER;
  mkdirSync(directory, { recursive: true });
  const packageName = process.env.ADVX_TFJS_NODE_PACKAGE ?? '@tensorflow/tfjs-node';
  const tfnode = require(packageName) as TfjsNode; // already loaded by selectBackend: a cache hit
  let writer!: NativeSummaryFileWriter;
  tf.tidy(() => {
    writer = tfnode.node.summaryFileWriter(directory) as NativeSummaryFileWriter;
    if (!writer.resourceHandle.isDisposed) tf.keep(writer.resourceHandle);
  });
  if (writer.resourceHandle.isDisposed) writer.resourceHandle = writer.backend.summaryWriter(directory);
  let open = true;
  return {
    epoch: (record, step) => {
      if (!open) return;
      for (const [name, value] of curveScalars(record, adversarialSelection)) writer.scalar(name, value, step);
      // Flushed every epoch, so the curves of a run that is killed are on disk up to its last epoch
      // (an epoch takes seconds to minutes; a flush writes a few hundred bytes).
      writer.flush();
    },
    close: () => {
      if (!open) return;
      open = false;
      try {
        writer.flush();
      } finally {
        writer.resourceHandle.dispose();
      }
    },
  };
}
