/**
 * A problem with data on disk or on the wire: a missing, corrupt or mismatching file. Its message is
 * one line that names the file (or URL) and what is wrong, so a CLI can print it as it is and exit.
 */
export class DataError extends Error {
  readonly exitCode = 1;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DataError';
  }
}
