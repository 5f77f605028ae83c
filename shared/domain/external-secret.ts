/**
 * External Secrets Operator manifests for Secrets Manager secrets. Pure: secret names, key names
 * and version ids in, YAML out. Secret values never reach this module; only the names of a JSON
 * secret's keys do, and those reach git only when the config lists them (`secrets[].keys`): by
 * default a JSON secret is written as `dataFrom: [{extract: {key}}]`, which names no key.
 */
import { createHash } from 'node:crypto';
import { stringify } from 'yaml';

export const EXTERNAL_SECRET_API_VERSION = 'external-secrets.io/v1';
/** ESO re-reads the store when this annotation changes, instead of waiting for refreshInterval. */
export const FORCE_SYNC_ANNOTATION = 'force-sync';
export const SOURCE_ANNOTATION = 'shiplane.io/secret-name';
export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by';

export const FILE_HEADER = [
  '# Managed by Shiplane secret sync from AWS Secrets Manager. Do not edit: the next sync overwrites it.',
  '# Only secret names (and key names the config lists) are written here; External Secrets Operator reads the values.',
].join('\n');

/** How a secret's value is laid out: the key names of a JSON object, or one opaque value. */
export type SecretShape =
  | { readonly kind: 'json'; readonly keys: readonly string[] }
  | { readonly kind: 'plain' };

export interface SecretStoreRef {
  readonly kind: 'SecretStore' | 'ClusterSecretStore';
  readonly name: string;
}

/** One secret to render. */
export interface ExternalSecretSource {
  readonly secretName: string;
  /** The AWSCURRENT version id: the force-sync annotation. */
  readonly versionId: string;
  readonly shape: SecretShape;
  readonly secretStore: SecretStoreRef;
  /** A Kubernetes duration such as `1h`. */
  readonly refreshInterval: string;
  /** From the secret's `shiplane:namespace` tag, when the config allows it; absent leaves it to kustomize. */
  readonly namespace?: string | undefined;
  /**
   * `secrets[].keys`: the JSON keys to list in `spec.data` (those the secret has). Absent: a JSON
   * secret is extracted whole (`spec.dataFrom`), so no key name is written.
   */
  readonly keys?: readonly string[] | undefined;
}

/** One `spec.data` entry: a Secret key filled from a secret (or one of its JSON properties). */
export interface ExternalSecretData {
  secretKey: string;
  remoteRef: { key: string; property?: string };
}

export interface ExternalSecretManifest {
  apiVersion: typeof EXTERNAL_SECRET_API_VERSION;
  kind: 'ExternalSecret';
  metadata: {
    name: string;
    namespace?: string;
    labels: Record<string, string>;
    annotations: Record<string, string>;
  };
  /** Exactly one of `data` (listed keys, or a plain secret) and `dataFrom` (a whole JSON secret). */
  spec: {
    refreshInterval: string;
    secretStoreRef: { kind: string; name: string };
    target: { name: string; creationPolicy: 'Owner' };
    data?: ExternalSecretData[];
    dataFrom?: Array<{ extract: { key: string } }>;
  };
}

const DNS_LABEL_MAX = 63;
const SECRET_KEY_MAX = 253;

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);

/** `base` cut to fit `max` with `-<hash of source>` appended, so different sources stay apart. */
function withHash(base: string, source: string, max: number, separator = '-'): string {
  const hash = shortHash(source);
  const head = base.slice(0, max - hash.length - separator.length).replace(/[^a-z0-9A-Z]+$/, '');
  return head ? `${head}${separator}${hash}` : hash;
}

const dnsBase = (secretName: string) =>
  secretName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');

/**
 * The ExternalSecret (and target Secret) name for a secret: a DNS-1123 label made from the whole
 * name (`itdo-erp/production/database` → `itdo-erp-production-database`), with a short hash of
 * the original name when it had to be cut to 63 characters.
 */
export function externalSecretName(secretName: string): string {
  const base = dnsBase(secretName);
  return base.length > 0 && base.length <= DNS_LABEL_MAX ? base : withHash(base, secretName, DNS_LABEL_MAX);
}

const keyBase = (key: string) => key.replace(/[^-._a-zA-Z0-9]+/g, '_');
const validSecretKey = (key: string) =>
  /^[-._a-zA-Z0-9]+$/.test(key) && key !== '.' && key !== '..' && key.length <= SECRET_KEY_MAX;

/**
 * Kubernetes Secret keys for the given source keys: unchanged when valid, otherwise invalid runs
 * become `_`, with a short hash when that (or the length cut) would make two keys meet.
 */
function secretKeys(keys: readonly string[]): Map<string, string> {
  const base = new Map(keys.map((key) => [key, validSecretKey(key) ? key : keyBase(key)] as const));
  const uses = new Map<string, number>();
  for (const value of base.values()) uses.set(value, (uses.get(value) ?? 0) + 1);
  const out = new Map<string, string>();
  for (const [key, value] of base) {
    const clean =
      (uses.get(value) ?? 0) > 1 || !validSecretKey(value)
        ? withHash(value, key, SECRET_KEY_MAX, '_')
        : value;
    out.set(key, clean);
  }
  return out;
}

/** The Secret key a plain (non-JSON) secret is stored under: the last segment of its name. */
export function plainSecretKey(secretName: string): string {
  const last = secretName.split('/').filter(Boolean).pop() ?? '';
  return secretKeys([last || 'value']).get(last || 'value') ?? 'value';
}

/** The configured keys a JSON secret has, sorted; empty for a plain secret or without `keys`. */
export function listedKeys(source: Pick<ExternalSecretSource, 'shape' | 'keys'>): string[] {
  if (source.shape.kind === 'plain' || !source.keys) return [];
  const present = new Set(source.shape.keys);
  return [...new Set(source.keys)].filter((key) => present.has(key)).sort(compare);
}

/** True for a JSON secret that has none of the keys the config lists: nothing to render. */
export function hasNoListedKey(source: Pick<ExternalSecretSource, 'shape' | 'keys'>): boolean {
  return (
    source.shape.kind === 'json' &&
    source.shape.keys.length > 0 &&
    !!source.keys &&
    listedKeys(source).length === 0
  );
}

/**
 * Where the Secret's keys come from. A plain secret (or `{}`): one `data` entry without property.
 * A JSON secret with configured keys: one entry per configured key it has, sorted (a reordered
 * JSON value renders the same). Any other JSON secret: `dataFrom.extract`, so its key names stay
 * in Secrets Manager.
 */
function dataOf(source: ExternalSecretSource): Pick<ExternalSecretManifest['spec'], 'data' | 'dataFrom'> {
  if (source.shape.kind === 'plain' || source.shape.keys.length === 0) {
    return {
      data: [{ secretKey: plainSecretKey(source.secretName), remoteRef: { key: source.secretName } }],
    };
  }
  if (!source.keys) return { dataFrom: [{ extract: { key: source.secretName } }] };
  const keys = listedKeys(source);
  const mapped = secretKeys(keys);
  return {
    data: keys.map((key) => ({
      secretKey: mapped.get(key) ?? key,
      remoteRef: { key: source.secretName, property: key },
    })),
  };
}

/** Builds one manifest; `name` is given when the whole file decided it (see `namesFor`). */
export function renderExternalSecret(
  source: ExternalSecretSource,
  name = externalSecretName(source.secretName),
): ExternalSecretManifest {
  return {
    apiVersion: EXTERNAL_SECRET_API_VERSION,
    kind: 'ExternalSecret',
    metadata: {
      name,
      ...(source.namespace ? { namespace: source.namespace } : {}),
      labels: { [MANAGED_BY_LABEL]: 'shiplane' },
      annotations: {
        [FORCE_SYNC_ANNOTATION]: source.versionId,
        [SOURCE_ANNOTATION]: source.secretName,
      },
    },
    spec: {
      refreshInterval: source.refreshInterval,
      secretStoreRef: { kind: source.secretStore.kind, name: source.secretStore.name },
      target: { name, creationPolicy: 'Owner' },
      ...dataOf(source),
    },
  };
}

/** Code-point order: the same in every locale, so the file is byte-identical everywhere. */
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Names for a whole file. Two secrets whose names sanitise to the same label in one namespace
 * (`a/b` and `a-b`) both get a short hash, so neither overwrites the other's Secret.
 */
function namesFor(sources: readonly ExternalSecretSource[]): Map<ExternalSecretSource, string> {
  const groups = new Map<string, Set<string>>();
  const keyOf = (source: ExternalSecretSource) =>
    `${source.namespace ?? ''}/${externalSecretName(source.secretName)}`;
  for (const source of sources) {
    const group = groups.get(keyOf(source)) ?? new Set<string>();
    group.add(source.secretName);
    groups.set(keyOf(source), group);
  }
  return new Map(
    sources.map((source) => {
      const name = externalSecretName(source.secretName);
      const clash = (groups.get(keyOf(source))?.size ?? 0) > 1;
      return [source, clash ? withHash(dnsBase(source.secretName), source.secretName, DNS_LABEL_MAX) : name];
    }),
  );
}

/**
 * The whole ExternalSecret file: a header, then one document per secret sorted by namespace and
 * name. The same secrets at the same versions always give the same bytes, so an unchanged secret
 * set is an unchanged file (and no commit). No secrets → the header alone, which kustomize reads
 * as an empty resource list. A JSON secret with none of its entry's `keys` is left out.
 */
export function renderExternalSecretsFile(sources: readonly ExternalSecretSource[]): string {
  // A JSON secret with none of the configured keys would render an ExternalSecret with no data.
  const rendered = sources.filter((source) => !hasNoListedKey(source));
  const unique = [...new Map(rendered.map((source) => [source.secretName, source])).values()];
  const names = namesFor(unique);
  const manifests = unique
    .map((source) => renderExternalSecret(source, names.get(source)))
    .sort(
      (a, b) =>
        compare(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
        compare(a.metadata.name, b.metadata.name),
    );
  const documents = manifests.map((manifest) => `---\n${stringify(manifest, { lineWidth: 0 })}`);
  return `${FILE_HEADER}\n${documents.join('')}`;
}
