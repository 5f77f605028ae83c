/**
 * An error with the HTTP status it answers with. Each server renders it in its own wire format
 * (GitHub's `{message, documentation_url}`, Argo CD's grpc-gateway body, AWS's `__type`), so the
 * kit only carries the status and the message.
 */
export class HttpError extends Error {
  override name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** The request body is longer than the server accepts: 413. */
export class BodyTooLargeError extends HttpError {
  override name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(413, `request body over ${limit} bytes`);
  }
}

/** The request body is not the JSON the route expects: 400. */
export class InvalidJsonError extends HttpError {
  override name = 'InvalidJsonError';
  constructor(message = 'request body is not JSON') {
    super(400, message);
  }
}
