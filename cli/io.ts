import type { Io } from '../local/io.js';

/** The `Io` type lives in local/ (local runs write through it, and local/ never imports cli/). */
export type { Io };

/** Where CLI commands write: the process's stdout and stderr. Tests pass their own Io to capture it. */
export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
};
