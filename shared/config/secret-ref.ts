/**
 * A reference to a secret in the config file. Never the secret itself:
 * `secret:NAME` is a Secrets Manager name or ARN, `env:VAR` an environment variable (local runs only).
 */
export type SecretRef =
  | { readonly source: 'secret'; readonly name: string }
  | { readonly source: 'env'; readonly name: string };

const SECRET_NAME = /^[A-Za-z0-9/_+=.@:-]{1,2048}$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses `secret:NAME` / `env:VAR`; returns an error message when the reference is malformed. */
export function parseSecretRef(text: string): SecretRef | string {
  if (text.startsWith('secret:')) {
    const name = text.slice('secret:'.length);
    return SECRET_NAME.test(name)
      ? { source: 'secret', name }
      : 'expected secret:NAME with a Secrets Manager name or ARN';
  }
  if (text.startsWith('env:')) {
    const name = text.slice('env:'.length);
    return ENV_NAME.test(name)
      ? { source: 'env', name }
      : 'expected env:VAR with an environment variable name';
  }
  return 'expected a secret reference like secret:NAME or env:VAR (never the secret itself)';
}

export function formatSecretRef(ref: SecretRef): string {
  return `${ref.source}:${ref.name}`;
}
