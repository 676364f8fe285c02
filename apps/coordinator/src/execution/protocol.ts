import type { SharedDataset } from '../compute/shared-data.js';

/** What the Piscina pool (piscina.ts) and its thread entry (src/worker.ts) agree on, and nothing else. */

/** Piscina worker: one tfjs engine per thread, initialised once and reused for every unit it runs. */
export interface WorkerData {
  backend: string;
  runsDir: string;
  progressChannel: string;
}

/**
 * A unit as msgpackr bytes (transferred, not copied) and the sweep's datasets. The datasets live in
 * SharedArrayBuffers, which cross threads by reference: every task sees the same memory, and the
 * pool can start loading TensorFlow before the coordinator has finished reading the data.
 */
export interface WorkerTask {
  unit: Uint8Array;
  datasets: Record<string, SharedDataset>;
}
