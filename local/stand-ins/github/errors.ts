import { HttpError } from '../../http/index.js';

export const REST_DOCS = 'https://docs.github.com/rest';

/** An error GitHub answers with `{ message, documentation_url, status }`. */
export class GitHubApiError extends HttpError {
  override name = 'GitHubApiError';
  constructor(
    status: number,
    message: string,
    readonly documentation = REST_DOCS,
  ) {
    super(status, message);
  }
}

/** GitHub's error body for any HttpError (the kit's 413 and 400 included). */
export function errorBody(error: HttpError): Record<string, string> {
  return {
    message: error.message,
    documentation_url: error instanceof GitHubApiError ? error.documentation : REST_DOCS,
    status: String(error.status),
  };
}
