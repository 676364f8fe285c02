import { writeFileSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import Piscina from 'piscina';
import { isBackendName, selectBackend } from '@advx/models';
import { decode, encode } from './codec.js';
import type { SharedDataset } from './shared-data.js';
import type { Unit } from './units.js';
import { runUnit, type ProgressEvent, type WorkerContext } from './work.js';

/** Piscina worker: one tfjs engine per thread, initialised once and reused for every unit it runs. */
export interface WorkerData {
  backend: string;
  datasets: Record<string, SharedDataset>;
  runsDir: string;
  progressChannel: string;
}

const data = Piscina.workerData as WorkerData;
const channel = new BroadcastChannel(data.progressChannel);
// Progress is best-effort; a worker that exits must not be kept alive by its channel.
channel.unref();

const ready: Promise<WorkerContext> = (async () => {
  const requested = data.backend;
  if (requested !== 'auto' && !isBackendName(requested)) throw new Error(`unknown backend ${requested}`);
  const info = await selectBackend(requested);
  return {
    backend: info.name,
    datasets: data.datasets,
    runsDir: data.runsDir,
    progress: (event: ProgressEvent) => channel.postMessage(event),
  };
})();

/**
 * Fault injection for tests: ADVX_FAULT="exit:<role>" ends this worker thread (as a crash would)
 * while it runs a unit of that role, "throw:<role>" throws instead, "hang:<role>" never returns. With ADVX_FAULT_ONCE=<file>,
 * only the first such unit faults (the file records that it happened), so a retry can succeed.
 */
function injectFault(unit: Unit): void {
  const [kind, role] = (process.env.ADVX_FAULT ?? '').split(':');
  if (role !== unit.role) return;
  const once = process.env.ADVX_FAULT_ONCE;
  if (once) {
    try {
      writeFileSync(once, unit.key, { flag: 'wx' });
    } catch {
      return; // already faulted once
    }
  }
  if (kind === 'exit') process.exit(70);
  if (kind === 'throw') throw new Error(`injected fault in ${unit.role}`);
  // A hung unit: blocks this thread's event loop, as a stuck native call would.
  if (kind === 'hang') for (;;);
}

export default async function run(message: Uint8Array): Promise<unknown> {
  const context = await ready;
  const unit = decode<Unit>(message);
  injectFault(unit);
  const output = await runUnit(context, unit);
  const bytes = encode(output);
  return Piscina.move(bytes.buffer as ArrayBuffer);
}
