/**
 * What a secrets file may hold: exactly what secret sync renders (shared/domain/external-secret.ts),
 * nothing more. The committer writes whole secrets files for whoever sends them, and secret sync's
 * role may send; re-parsing the content here means a message on the queue cannot put a
 * ClusterRoleBinding, a Deployment or an ExternalSecret that templates arbitrary Secrets into the
 * repository Argo CD applies.
 *
 * Accepted: YAML documents of `apiVersion: external-secrets.io/v1`, `kind: ExternalSecret` with
 * the metadata secret sync writes and a spec that reads one Secrets Manager secret (the one its
 * `shiplane.io/secret-name` annotation names) through `data` entries, `dataFrom: [{extract}]`, or
 * both, into a Secret of the same name it owns. Empty documents (the header alone) are fine.
 */
import { parseAllDocuments } from 'yaml';
import * as z from '../contracts/zod.js';
import {
  EXTERNAL_SECRET_API_VERSION,
  FORCE_SYNC_ANNOTATION,
  MANAGED_BY_LABEL,
  SOURCE_ANNOTATION,
} from './external-secret.js';

/** A store a secrets file may reference (the config's `secrets[].secretStore`). */
export interface SecretStoreTarget {
  readonly kind: string;
  readonly name: string;
}

const dnsLabel = z
  .string()
  .check(z.maxLength(63), z.regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'expected a DNS-1123 label'));
const secretKey = z.string().check(z.maxLength(253), z.regex(/^[-._a-zA-Z0-9]+$/, 'expected a Secret key'));
const remoteKey = z.string().check(z.minLength(1), z.maxLength(2048));

const externalSecretSchema = z.strictObject({
  apiVersion: z.literal(EXTERNAL_SECRET_API_VERSION),
  kind: z.literal('ExternalSecret'),
  metadata: z.strictObject({
    name: dnsLabel,
    namespace: z.optional(dnsLabel),
    labels: z.optional(z.strictObject({ [MANAGED_BY_LABEL]: z.literal('shiplane') })),
    annotations: z.optional(
      z.strictObject({
        [FORCE_SYNC_ANNOTATION]: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
        [SOURCE_ANNOTATION]: remoteKey,
      }),
    ),
  }),
  spec: z.strictObject({
    refreshInterval: z.string().check(z.regex(/^\d+[smh]$/, 'expected a duration like 1h')),
    secretStoreRef: z.strictObject({
      kind: z.enum(['SecretStore', 'ClusterSecretStore']),
      name: z.string().check(z.minLength(1)),
    }),
    target: z.strictObject({ name: dnsLabel, creationPolicy: z.literal('Owner') }),
    data: z.optional(
      z.array(
        z.strictObject({
          secretKey,
          remoteRef: z.strictObject({
            key: remoteKey,
            property: z.optional(z.string().check(z.minLength(1))),
          }),
        }),
      ),
    ),
    dataFrom: z.optional(z.array(z.strictObject({ extract: z.strictObject({ key: remoteKey }) }))),
  }),
});
type ExternalSecretDocument = z.infer<typeof externalSecretSchema>;

/** What is wrong with a document that passed the schema: the fields must agree with each other. */
function inconsistency(
  manifest: ExternalSecretDocument,
  stores: readonly SecretStoreTarget[],
): string | undefined {
  const { metadata, spec } = manifest;
  const reads = [
    ...(spec.data ?? []).map((entry) => entry.remoteRef.key),
    ...(spec.dataFrom ?? []).map((entry) => entry.extract.key),
  ];
  if (reads.length === 0) return 'spec: needs data or dataFrom';
  if (spec.target.name !== metadata.name) {
    return `spec.target.name: ${spec.target.name} is not the ExternalSecret's name ${metadata.name}`;
  }
  const source = metadata.annotations?.[SOURCE_ANNOTATION];
  const other = reads.find((key) => key !== source);
  if (other !== undefined) {
    return `spec reads ${other}, not the secret its ${SOURCE_ANNOTATION} annotation names (${source ?? 'none'})`;
  }
  const store = spec.secretStoreRef;
  if (
    stores.length > 0 &&
    !stores.some((allowed) => allowed.kind === store.kind && allowed.name === store.name)
  ) {
    return `spec.secretStoreRef: ${store.kind} ${store.name} is not the store the config names for this file (${stores.map((s) => `${s.kind} ${s.name}`).join(', ')})`;
  }
  return undefined;
}

/**
 * Returns why `content` is not a secrets file secret sync would write, or undefined when it is.
 * `stores` are the stores the config names for the file (empty: any store).
 */
export function refuseSecretsFile(
  file: string,
  content: string,
  stores: readonly SecretStoreTarget[] = [],
): string | undefined {
  let index = 0;
  for (const document of parseAllDocuments(content)) {
    index++;
    const problem = document.errors[0];
    if (problem) return `${file} is not valid YAML (document ${index}): ${problem.message}`;
    if (document.contents === null) continue;
    let value: unknown;
    try {
      // Secret sync never writes aliases; refusing them also refuses alias bombs.
      value = document.toJS({ maxAliasCount: 0 });
    } catch (error) {
      return `${file} document ${index}: ${(error as Error).message}`;
    }
    if (value === null || value === undefined) continue;
    const parsed = externalSecretSchema.safeParse(value);
    if (!parsed.success) {
      const kind = (value as { kind?: unknown } | null)?.kind;
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? issue.path.join('.') : '(document)';
      return `${file} document ${index}${typeof kind === 'string' ? ` (${kind})` : ''} is not an ${EXTERNAL_SECRET_API_VERSION} ExternalSecret as secret sync writes it: ${where}: ${issue?.message ?? 'invalid'}`;
    }
    const wrong = inconsistency(parsed.data, stores);
    if (wrong) return `${file} document ${index} (ExternalSecret ${parsed.data.metadata.name}): ${wrong}`;
  }
  return undefined;
}
