/**
 * What can go wrong talking to Argo CD, one class per kind. Terminal errors (a bad token, a missing
 * role, a wrong app name) end the run through the state machine's Catch; ArgoCdUnreachableError is
 * transient: the health check reports it as `progressing` and the wait loop polls again.
 */
import { TerminalError } from '../errors.js';

/** Network failure, timeout, or 5xx/429 after every retry. */
export class ArgoCdUnreachableError extends Error {
  override name = 'ArgoCdUnreachableError';
}

/** 401: the token is missing, malformed, expired or revoked. */
export class ArgoCdAuthenticationError extends TerminalError {
  override name = 'ArgoCdAuthenticationError';
}

/** 403: the token's role may not do this (Argo CD also answers 403 for apps the role cannot see). */
export class ArgoCdPermissionError extends TerminalError {
  override name = 'ArgoCdPermissionError';
}

/** 404: no such application (in that namespace). */
export class ArgoCdAppNotFoundError extends TerminalError {
  override name = 'ArgoCdAppNotFoundError';
}

/** Any other 4xx, or a 2xx whose body is not an Application: a configuration problem, not a blip. */
export class ArgoCdRequestError extends TerminalError {
  override name = 'ArgoCdRequestError';
  constructor(
    message: string,
    readonly status: number,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A sync was requested while another operation runs (FailedPrecondition, HTTP 400). Not an error for us. */
export class ArgoCdOperationInProgressError extends Error {
  override name = 'ArgoCdOperationInProgressError';
}
