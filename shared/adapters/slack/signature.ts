/**
 * Slack request signing, v0: `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` keyed with the
 * app's signing secret. The interaction endpoint is a public URL that moves production, so anything
 * that is not signed by Slack within the last five minutes (either way) is refused.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** How far a request's timestamp may be from our clock, in seconds, in either direction. */
export const SIGNATURE_WINDOW_SECONDS = 300;

const SIGNATURE = /^v0=[0-9a-f]{64}$/;
const TIMESTAMP = /^\d{1,12}$/;

export type SignatureRejection =
  | 'missing-signature'
  | 'missing-timestamp'
  | 'malformed-signature'
  | 'malformed-timestamp'
  | 'stale-timestamp'
  | 'future-timestamp'
  | 'mismatch';

export type SignatureVerdict =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: SignatureRejection };

export interface SignedRequest {
  /** `X-Slack-Request-Timestamp`, epoch seconds as text. */
  readonly timestamp: string | undefined;
  /** `X-Slack-Signature`, `v0=<hex>`. */
  readonly signature: string | undefined;
  /** The body exactly as received: bytes, never a re-encoded form. */
  readonly rawBody: Buffer | string;
}

/** Computes the `X-Slack-Signature` value Slack would send for this body. */
export function signSlackRequest(secret: string, timestamp: string, rawBody: Buffer | string): string {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(rawBody);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Verifies a request's v0 signature. `nowSeconds` is our clock (epoch seconds). The comparison is
 * constant-time; the signature's length is fixed by the format, so checking it first leaks nothing.
 */
export function verifySlackSignature(
  secret: string,
  request: SignedRequest,
  nowSeconds: number,
): SignatureVerdict {
  const { timestamp, signature } = request;
  if (signature === undefined || signature === '') return { ok: false, reason: 'missing-signature' };
  if (timestamp === undefined || timestamp === '') return { ok: false, reason: 'missing-timestamp' };
  if (!TIMESTAMP.test(timestamp)) return { ok: false, reason: 'malformed-timestamp' };
  if (!SIGNATURE.test(signature)) return { ok: false, reason: 'malformed-signature' };
  const age = nowSeconds - Number(timestamp);
  if (age > SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'stale-timestamp' };
  if (age < -SIGNATURE_WINDOW_SECONDS) return { ok: false, reason: 'future-timestamp' };
  const expected = Buffer.from(signSlackRequest(secret, timestamp, request.rawBody), 'utf8');
  const received = Buffer.from(signature, 'utf8');
  if (expected.length !== received.length || !timingSafeEqual(expected, received)) {
    return { ok: false, reason: 'mismatch' };
  }
  return { ok: true };
}
