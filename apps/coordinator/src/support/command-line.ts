import { type Command, CommanderError, InvalidArgumentError } from 'commander';

/**
 * What the project's commands (sweep, bench, worker) share about their arguments: a usage error is
 * one line on stderr naming the flag, and exit code 2.
 */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/** A commander parser for an integer flag of at least `min` (and at most `max`), whose error names the flag. */
export function integerAtLeast(flag: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || Number(value) < min) {
      throw new InvalidArgumentError(`${flag} must be ${min === 1 ? 'a positive integer' : `an integer ≥ ${min}`}, got "${value}"`);
    }
    if (Number(value) > max) throw new InvalidArgumentError(`${flag} must be at most ${max}, got "${value}"`);
    return Number(value);
  };
}

/**
 * Parses argv with a command built with exitOverride(): 'help' when help was printed, otherwise
 * nothing; commander's own errors become UsageErrors without their "error: " prefix.
 */
export function parseCommand(command: Command, argv: string[]): 'help' | undefined {
  command.exitOverride().configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: () => {} });
  try {
    command.parse(argv, { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') return 'help';
    throw new UsageError(error.message.replace(/^error: /, ''));
  }
  return undefined;
}

/**
 * The options `parse` returns, or the exit code to end with: 0 after help, 2 after a usage error
 * (printed as `advx <name>: message` and a pointer to --help).
 */
export function optionsOrExitCode<T>(name: string, parse: () => T | 'help'): T | number {
  try {
    const options = parse();
    return options === 'help' ? 0 : options;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`advx ${name}: ${error.message}\n(run with --help for usage)\n`);
    return error.exitCode;
  }
}
