import { describe, expect, it } from 'vitest';
import {
  SIGNATURE_WINDOW_SECONDS,
  signSlackRequest,
  verifySlackSignature,
} from '../../../../shared/adapters/slack/signature.js';

const secret = '8f742231b10e8888abcd99yyyzzz85a5';
// Slack's documented example request (a slash command body), signed with the secret above.
const documentedBody =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const documentedTimestamp = '1531420618';
const documentedSignature = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const now = Number(documentedTimestamp) + 10;

describe('signSlackRequest', () => {
  it("computes Slack's documented example signature", () => {
    expect(signSlackRequest(secret, documentedTimestamp, documentedBody)).toBe(documentedSignature);
  });

  it('signs bytes and the same text alike', () => {
    expect(signSlackRequest(secret, '1', Buffer.from('payload=%7B%7D'))).toBe(
      signSlackRequest(secret, '1', 'payload=%7B%7D'),
    );
  });
});

describe('verifySlackSignature', () => {
  const request = { timestamp: documentedTimestamp, signature: documentedSignature, rawBody: documentedBody };

  it('accepts a request Slack signed', () => {
    expect(verifySlackSignature(secret, request, now)).toEqual({ ok: true });
  });

  it('accepts the raw body as bytes', () => {
    expect(verifySlackSignature(secret, { ...request, rawBody: Buffer.from(documentedBody) }, now).ok).toBe(
      true,
    );
  });

  it('refuses a request signed with another secret', () => {
    expect(verifySlackSignature('not-the-signing-secret', request, now)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a tampered body', () => {
    const tampered = documentedBody.replace('user_id=U2CERLKJA', 'user_id=U0ATTACKER');
    expect(verifySlackSignature(secret, { ...request, rawBody: tampered }, now)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });

  it('refuses a body that was decoded and re-encoded before hashing', () => {
    // What a framework's body parser hands over: the same JSON, re-serialized and re-encoded (%20 → +).
    const payloadBody = 'payload=%7B%22type%22%3A%20%22block_actions%22%7D';
    const signed = signSlackRequest(secret, documentedTimestamp, payloadBody);
    const json = JSON.stringify(JSON.parse(new URLSearchParams(payloadBody).get('payload') ?? ''));
    const rebuilt = new URLSearchParams({ payload: json }).toString();
    expect(verifySlackSignature(secret, { ...request, signature: signed, rawBody: rebuilt }, now).ok).toBe(
      false,
    );
    expect(
      verifySlackSignature(secret, { ...request, signature: signed, rawBody: payloadBody }, now).ok,
    ).toBe(true);
  });

  it('refuses a timestamp more than five minutes old', () => {
    const at = Number(documentedTimestamp) + SIGNATURE_WINDOW_SECONDS + 1;
    expect(verifySlackSignature(secret, request, at)).toEqual({ ok: false, reason: 'stale-timestamp' });
  });

  it('refuses a timestamp more than five minutes ahead', () => {
    const at = Number(documentedTimestamp) - SIGNATURE_WINDOW_SECONDS - 1;
    expect(verifySlackSignature(secret, request, at)).toEqual({ ok: false, reason: 'future-timestamp' });
  });

  it('accepts timestamps exactly five minutes off either way', () => {
    const ts = Number(documentedTimestamp);
    expect(verifySlackSignature(secret, request, ts + SIGNATURE_WINDOW_SECONDS).ok).toBe(true);
    expect(verifySlackSignature(secret, request, ts - SIGNATURE_WINDOW_SECONDS).ok).toBe(true);
  });

  it('refuses a request without a signature or a timestamp', () => {
    expect(verifySlackSignature(secret, { ...request, signature: undefined }, now)).toEqual({
      ok: false,
      reason: 'missing-signature',
    });
    expect(verifySlackSignature(secret, { ...request, timestamp: undefined }, now)).toEqual({
      ok: false,
      reason: 'missing-timestamp',
    });
    expect(verifySlackSignature(secret, { ...request, signature: '' }, now).ok).toBe(false);
  });

  it('refuses malformed headers before computing anything', () => {
    expect(verifySlackSignature(secret, { ...request, timestamp: '1531420618.5' }, now)).toEqual({
      ok: false,
      reason: 'malformed-timestamp',
    });
    expect(verifySlackSignature(secret, { ...request, signature: 'v1=abc' }, now)).toEqual({
      ok: false,
      reason: 'malformed-signature',
    });
    expect(
      verifySlackSignature(secret, { ...request, signature: documentedSignature.toUpperCase() }, now).ok,
    ).toBe(false);
  });

  it('refuses a signature over a different timestamp (a replayed body with a fresh timestamp)', () => {
    const fresh = String(now);
    expect(verifySlackSignature(secret, { ...request, timestamp: fresh }, now)).toEqual({
      ok: false,
      reason: 'mismatch',
    });
  });
});
