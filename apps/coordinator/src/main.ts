import { DataError } from '@advx/data';
import { parseSweepArgs } from './sweep/options.js';
import { optionsOrExitCode } from './support/command-line.js';
import { runSweep } from './sweep/run.js';

/**
 * `nx run coordinator:sweep [flags]`. Exit codes: 0 complete, 1 data error or incomplete sweep,
 * 2 usage error, 130 interrupted.
 */
async function main(argv: string[]): Promise<number> {
  const options = optionsOrExitCode('sweep', () => parseSweepArgs(argv));
  if (typeof options === 'number') return options;

  // SIGINT: stop scheduling, let running units finish, write an incomplete report. A second SIGINT exits at once.
  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ninterrupted: finishing running units, then writing an incomplete report (Ctrl-C again to abort)\n');
    controller.abort();
    process.once('SIGINT', () => process.exit(130));
  });

  try {
    const { report } = await runSweep(options, controller.signal);
    if (controller.signal.aborted) return 130;
    return report.complete ? 0 : 1;
  } catch (error) {
    if (error instanceof DataError) {
      process.stderr.write(`advx sweep: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`advx sweep: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
