import { HttpError } from '../../http/index.js';

export const REST_DOCS = 'https://docs.github.com/rest';

/** An error GitHub answers with `{ message, documentation_url, status }`. */
export class GitHubApiError extends HttpError {
  override name = 'GitHubApiError';
  constructor(
    status: number,
    message: string,
    readonly documentation = REST_DOCS,
    /** GitHub's `errors` list (a 422 "Validation Failed" says there what failed). */
    readonly errors?: ReadonlyArray<Record<string, string>>,
  ) {
    super(status, message);
  }
}

/** GitHub's error body for any HttpError (the kit's 413 and 400 included). */
export function errorBody(error: HttpError): Record<string, unknown> {
  return {
    message: error.message,
    ...(error instanceof GitHubApiError && error.errors ? { errors: error.errors } : {}),
    documentation_url: error instanceof GitHubApiError ? error.documentation : REST_DOCS,
    status: String(error.status),
  };
}
