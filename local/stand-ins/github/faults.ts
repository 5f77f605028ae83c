/** The failures a test can make the GitHub stand-in answer with, as GitHub (or its proxy) sends them. */
import type { RequestMatch } from '../../http/index.js';
import type { Reply } from './context.js';

export type FaultKind =
  | 'bad-gateway'
  | 'server-error'
  | 'service-unavailable'
  | 'secondary-rate-limit'
  | 'rate-limit'
  | 'bad-credentials'
  | 'connection-reset';

export interface Fault extends RequestMatch {
  readonly kind: FaultKind;
  /** How many matching requests fail. @default 1 */
  readonly times?: number;
  /** Seconds, for rate limits. @default 1 */
  readonly retryAfter?: number;
}

/** GitHub's answer for a fault (`connection-reset` has none: the connection is dropped instead). */
export function faultReply(fault: Fault, requestId: string): Reply {
  const retryAfter = String(fault.retryAfter ?? 1);
  switch (fault.kind) {
    case 'bad-gateway':
      return { status: 502, raw: '<html><body><h1>502 Bad Gateway</h1></body></html>', headers: {} };
    case 'service-unavailable':
      return { status: 503, body: { message: 'Service Unavailable' } };
    case 'server-error':
      return { status: 500, body: { message: 'Server Error' } };
    case 'secondary-rate-limit':
      return {
        status: 403,
        headers: { 'retry-after': retryAfter },
        body: {
          message:
            'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID ' +
            requestId,
          documentation_url:
            'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
          status: '403',
        },
      };
    case 'rate-limit':
      return {
        status: 403,
        headers: {
          'x-ratelimit-remaining': '0',
          'x-ratelimit-reset': String(Math.ceil(Date.now() / 1000) + Number(retryAfter)),
        },
        body: {
          message: 'API rate limit exceeded for installation ID 1.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
          status: '403',
        },
      };
    case 'bad-credentials':
      return {
        status: 401,
        body: {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401',
        },
      };
    case 'connection-reset':
      return { status: 0 };
  }
}
