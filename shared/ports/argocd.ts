/**
 * Argo CD as the health check needs it: read an Application, request a sync. The errors are part of
 * the port, one class per kind, so a step can tell them apart whichever client throws them. Terminal
 * errors (a bad token, a missing role, a wrong app name) end the run through the state machine's
 * Catch; ArgoCdUnreachableError is transient: the health check reports it as `progressing` and the
 * wait loop polls again.
 */

import type { Application } from '../domain/argocd-application.js';
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

export interface AppLocator {
  /** Only return the app when it belongs to this project (Argo CD answers 403 otherwise). */
  readonly project?: string;
  /** The namespace the Application lives in, for apps outside the control plane's namespace. */
  readonly appNamespace?: string;
}

export interface GetApplicationOptions extends AppLocator {
  /** `normal` re-reads Git now; `hard` also drops the manifest cache. @default no refresh */
  readonly refresh?: 'normal' | 'hard';
}

export interface SyncApplicationOptions extends AppLocator {
  /** The Git revision to sync to. */
  readonly revision: string;
  /** Delete resources no longer in Git. @default false */
  readonly prune?: boolean;
}

/** What the health check needs from Argo CD. */
export interface ArgoCdClient {
  /** The server this client talks to, for messages. */
  readonly url: string;
  getApplication(name: string, options?: GetApplicationOptions): Promise<Application>;
  /** Starts a sync operation; throws ArgoCdOperationInProgressError when one is already running. */
  syncApplication(name: string, options: SyncApplicationOptions): Promise<Application>;
}
