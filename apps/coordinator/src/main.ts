import { DataError } from '@advx/data';
import { parseSweepArgs } from './sweep/options.js';
import { optionsOrExitCode, UsageError } from './support/command-line.js';
import { runSweep } from './sweep/run.js';
import { DiskFullError, diskFullMessage, isDiskFull } from './support/disk-full.js';
import { resolve } from 'node:path';

/**
 * `nx run coordinator:sweep [flags]`. Exit codes: 0 complete, 1 data error or incomplete sweep,
 * 2 usage error (including an --out another sweep holds), 130 interrupted by SIGINT, 143 by SIGTERM.
 */
async function main(argv: string[]): Promise<number> {
  const options = optionsOrExitCode('sweep', () => parseSweepArgs(argv));
  if (typeof options === 'number') return options;

  // The first SIGINT or SIGTERM stops scheduling, lets running units finish (a training unit has
  // its checkpoint), and writes an incomplete report; a second one exits at once. SIGTERM counts:
  // Ctrl-C on `npx nx run coordinator:sweep` reaches the sweep as SIGTERM (nx runs it in a session of its own).
  const controller = new AbortController();
  let interruptedBy: NodeJS.Signals | null = null;
  const interrupt = (signal: NodeJS.Signals) => {
    if (interruptedBy) process.exit(exitCodeOf(signal));
    interruptedBy = signal;
    // runSweep logs it (terminal and sweep.log), naming the signal.
    controller.abort(signal);
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);

  try {
    const { report } = await runSweep(options, controller.signal);
    if (interruptedBy) return exitCodeOf(interruptedBy);
    return report.complete ? 0 : 1;
  } catch (error) {
    if (error instanceof DataError || error instanceof UsageError || error instanceof DiskFullError) {
      process.stderr.write(`advx sweep: ${error.message}\n`);
      return error.exitCode;
    }
    // A full disk met outside a unit (the log, the lock, the data cache): the same one line.
    if (isDiskFull(error)) {
      process.stderr.write(`advx sweep: ${await diskFullMessage(resolve(options.out), 'its files', null)}\n`);
      return 1;
    }
    throw error;
  }
}

/** The shell's convention: 128 + the signal's number. */
const exitCodeOf = (signal: NodeJS.Signals): number => (signal === 'SIGINT' ? 130 : 143);

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`advx sweep: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
