import { writeFileSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import Piscina from 'piscina';
import { runUnit, type WorkerContext } from './compute/run-unit.js';
import { startRuntime } from './compute/runtime.js';
import type { WorkerData, WorkerTask } from './execution/protocol.js';
import { decode, encode } from './units/codec.js';
import type { ProgressEvent } from './units/progress.js';
import type { Unit } from './units/types.js';

/** Piscina's thread entry (execution/piscina.ts): one tfjs engine per thread, initialised once and reused for every unit it runs. */

const data = Piscina.workerData as WorkerData;
const channel = new BroadcastChannel(data.progressChannel);
// Progress is best-effort; a worker that exits must not be kept alive by its channel.
channel.unref();

const ready: Promise<Omit<WorkerContext, 'datasets'>> = (async () => ({
  ...(await startRuntime(data.backend)),
  runsDir: data.runsDir,
  progress: (event: ProgressEvent) => channel.postMessage(event),
}))();

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

/**
 * Resolves once this thread's backend has loaded and run its first op. Terminating a thread that
 * has loaded native TensorFlow but not yet run an op crashes the process at exit (SIGSEGV), so the
 * pool waits for this before it is destroyed.
 */
export async function loaded(): Promise<void> {
  await ready.catch(() => {});
}

export default async function run(task: WorkerTask): Promise<unknown> {
  const context: WorkerContext = { ...(await ready), datasets: task.datasets };
  const unit = decode<Unit>(task.unit);
  injectFault(unit);
  const output = await runUnit(context, unit);
  const bytes = encode(output);
  return Piscina.move(bytes.buffer as ArrayBuffer);
}
