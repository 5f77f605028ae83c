/**
 * Error kinds shared by every handler. A TerminalError is something no retry can fix (bad input,
 * bad config, a missing image entry); the state machine's Catch sends it to the failure path,
 * while any other error may be retried.
 */
export class TerminalError extends Error {
  override name = 'TerminalError';
}

/** One problem in a config file, with the key path it is about. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export class ConfigError extends TerminalError {
  override name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly ConfigProblem[],
  ) {
    super(`${source} is not valid:\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`);
  }
}

/** Input that does not match its schema; the message names the field. */
export class InvalidInputError extends TerminalError {
  override name = 'InvalidInputError';
}

/** A handler that exists in the stack but whose issue has not been built yet. */
export class NotBuiltError extends TerminalError {
  override name = 'NotBuiltError';
}
