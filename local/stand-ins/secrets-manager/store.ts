/**
 * The state behind the Secrets Manager stand-in: secrets, their versions and staging labels, tags
 * and scheduled deletion, with the rules of the real service that secret sync depends on
 * (AWSCURRENT/AWSPREVIOUS moves, ListSecrets filters, deleted secrets refusing reads). Inputs and
 * outputs use the API's field names, so the server only routes.
 */
import { createHash, randomUUID } from 'node:crypto';

/** An error the service answers with; `type` becomes `__type` on the wire. */
export class SecretsManagerError extends Error {
  override name = 'SecretsManagerError';
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

interface Version {
  readonly id: string;
  readonly secretString?: string;
  readonly secretBinary?: Buffer;
  readonly stages: Set<string>;
  readonly createdAt: Date;
}

interface Secret {
  readonly name: string;
  readonly arn: string;
  description?: string;
  readonly tags: Map<string, string>;
  readonly versions: Map<string, Version>;
  readonly createdAt: Date;
  lastChangedAt: Date;
  deletedAt?: Date;
  deletionDate?: Date;
}

type Json = Record<string, unknown>;
interface ApiTag {
  Key?: string;
  Value?: string;
}

export interface SecretsStoreOptions {
  readonly region?: string;
  readonly accountId?: string;
  readonly now?: () => Date;
}

const NAME = /^[a-zA-Z0-9/_+=.@-]{1,512}$/;
const seconds = (date: Date) => date.getTime() / 1000;

const str = (input: Json, key: string): string | undefined => {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string')
    throw new SecretsManagerError('InvalidParameterException', `${key} must be a string`);
  return value;
};
const required = (input: Json, key: string): string => {
  const value = str(input, key);
  if (!value) throw new SecretsManagerError('InvalidParameterException', `${key} is required`);
  return value;
};

/** ARN suffix: six characters derived from the name, so runs are reproducible. */
const suffixFor = (name: string) =>
  createHash('sha256')
    .update(name)
    .digest('base64')
    .replace(/[^A-Za-z0-9]/g, 'x')
    .slice(0, 6);

export class SecretsStore {
  readonly region: string;
  readonly accountId: string;
  private readonly now: () => Date;
  private readonly secrets = new Map<string, Secret>();

  constructor(options: SecretsStoreOptions = {}) {
    this.region = options.region ?? 'eu-west-1';
    this.accountId = options.accountId ?? '123456789012';
    this.now = options.now ?? (() => new Date());
  }

  /** Finds a secret by name, full ARN or partial ARN (an ARN without the random suffix). */
  private find(secretId: string): Secret {
    const byName = this.secrets.get(secretId);
    if (byName) return byName;
    for (const secret of this.secrets.values()) {
      if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
    }
    throw new SecretsManagerError(
      'ResourceNotFoundException',
      "Secrets Manager can't find the specified secret.",
    );
  }

  private live(secretId: string): Secret {
    const secret = this.find(secretId);
    if (secret.deletedAt) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  private valueOf(input: Json): { secretString?: string; secretBinary?: Buffer } | undefined {
    const secretString = str(input, 'SecretString');
    const binary = str(input, 'SecretBinary');
    if (secretString !== undefined && binary !== undefined) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'You must provide either SecretString or SecretBinary, not both.',
      );
    }
    if (secretString !== undefined) return { secretString };
    if (binary !== undefined) return { secretBinary: Buffer.from(binary, 'base64') };
    return undefined;
  }

  /** Adds a version and moves its labels; moving AWSCURRENT leaves AWSPREVIOUS on the old one. */
  private addVersion(
    secret: Secret,
    value: { secretString?: string; secretBinary?: Buffer },
    token: string | undefined,
    stages: readonly string[] = ['AWSCURRENT'],
  ): Version {
    const id = token ?? randomUUID();
    const existing = secret.versions.get(id);
    if (existing) {
      const same =
        existing.secretString === value.secretString &&
        (existing.secretBinary?.equals(value.secretBinary ?? Buffer.alloc(0)) ??
          value.secretBinary === undefined);
      if (same) return existing;
      throw new SecretsManagerError(
        'ResourceExistsException',
        `You can't modify an existing version, you can only create a new version. VersionId: ${id}`,
      );
    }
    const now = this.now();
    for (const stage of stages) {
      const holder = [...secret.versions.values()].find((other) => other.stages.has(stage));
      if (!holder) continue;
      holder.stages.delete(stage);
      if (stage === 'AWSCURRENT') {
        for (const other of secret.versions.values()) other.stages.delete('AWSPREVIOUS');
        holder.stages.add('AWSPREVIOUS');
      }
    }
    const version: Version = { id, ...value, stages: new Set(stages), createdAt: now };
    secret.versions.set(id, version);
    // Versions without a label are deprecated; the service forgets them eventually.
    for (const [key, other] of secret.versions) if (other.stages.size === 0) secret.versions.delete(key);
    secret.lastChangedAt = now;
    return version;
  }

  private stagesOf(secret: Secret): Record<string, string[]> {
    return Object.fromEntries(
      [...secret.versions.values()].map((version) => [version.id, [...version.stages]]),
    );
  }

  private tagsOf(secret: Secret): ApiTag[] {
    return [...secret.tags].map(([Key, Value]) => ({ Key, Value }));
  }

  private describeOutput(secret: Secret): Json {
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(secret.description !== undefined ? { Description: secret.description } : {}),
      LastChangedDate: seconds(secret.lastChangedAt),
      Tags: this.tagsOf(secret),
      CreatedDate: seconds(secret.createdAt),
      ...(secret.deletedAt ? { DeletedDate: seconds(secret.deletedAt) } : {}),
    };
  }

  createSecret(input: Json): Json {
    const name = required(input, 'Name');
    if (!NAME.test(name)) {
      throw new SecretsManagerError(
        'ValidationException',
        'Name may contain only letters, digits and /_+=.@-',
      );
    }
    const existing = this.secrets.get(name);
    if (existing?.deletedAt) {
      throw new SecretsManagerError(
        'InvalidRequestException',
        "You can't create this secret because a secret with this name is already scheduled for deletion.",
      );
    }
    if (existing) {
      throw new SecretsManagerError(
        'ResourceExistsException',
        `The operation failed because the secret ${name} already exists.`,
      );
    }
    const now = this.now();
    const secret: Secret = {
      name,
      arn: `arn:aws:secretsmanager:${this.region}:${this.accountId}:secret:${name}-${suffixFor(name)}`,
      tags: new Map(),
      versions: new Map(),
      createdAt: now,
      lastChangedAt: now,
    };
    const description = str(input, 'Description');
    if (description !== undefined) secret.description = description;
    for (const tag of (input.Tags as ApiTag[] | undefined) ?? []) {
      if (tag.Key) secret.tags.set(tag.Key, tag.Value ?? '');
    }
    const value = this.valueOf(input);
    const version = value ? this.addVersion(secret, value, str(input, 'ClientRequestToken')) : undefined;
    this.secrets.set(name, secret);
    return { ARN: secret.arn, Name: name, ...(version ? { VersionId: version.id } : {}) };
  }

  putSecretValue(input: Json): Json {
    const secret = this.live(required(input, 'SecretId'));
    const value = this.valueOf(input);
    if (!value)
      throw new SecretsManagerError(
        'InvalidRequestException',
        'You must provide either SecretString or SecretBinary.',
      );
    const stages = input.VersionStages as string[] | undefined;
    const version = this.addVersion(secret, value, str(input, 'ClientRequestToken'), stages);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id, VersionStages: [...version.stages] };
  }

  updateSecret(input: Json): Json {
    const secret = this.live(required(input, 'SecretId'));
    const description = str(input, 'Description');
    if (description !== undefined) {
      secret.description = description;
      secret.lastChangedAt = this.now();
    }
    const value = this.valueOf(input);
    const version = value ? this.addVersion(secret, value, str(input, 'ClientRequestToken')) : undefined;
    return { ARN: secret.arn, Name: secret.name, ...(version ? { VersionId: version.id } : {}) };
  }

  deleteSecret(input: Json): Json {
    const secret = this.live(required(input, 'SecretId'));
    const force = input.ForceDeleteWithoutRecovery === true;
    const days = input.RecoveryWindowInDays as number | undefined;
    if (force && days !== undefined) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
      );
    }
    if (days !== undefined && (!Number.isInteger(days) || days < 7 || days > 30)) {
      throw new SecretsManagerError(
        'InvalidParameterException',
        'RecoveryWindowInDays must be between 7 and 30.',
      );
    }
    const now = this.now();
    if (force) {
      this.secrets.delete(secret.name);
      return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(now) };
    }
    secret.deletedAt = now;
    secret.deletionDate = new Date(now.getTime() + (days ?? 30) * 86_400_000);
    secret.lastChangedAt = now;
    return { ARN: secret.arn, Name: secret.name, DeletionDate: seconds(secret.deletionDate) };
  }

  restoreSecret(input: Json): Json {
    const secret = this.find(required(input, 'SecretId'));
    delete secret.deletedAt;
    delete secret.deletionDate;
    secret.lastChangedAt = this.now();
    return { ARN: secret.arn, Name: secret.name };
  }

  tagResource(input: Json): Json {
    const secret = this.live(required(input, 'SecretId'));
    for (const tag of (input.Tags as ApiTag[] | undefined) ?? []) {
      if (tag.Key) secret.tags.set(tag.Key, tag.Value ?? '');
    }
    secret.lastChangedAt = this.now();
    return {};
  }

  untagResource(input: Json): Json {
    const secret = this.live(required(input, 'SecretId'));
    for (const key of (input.TagKeys as string[] | undefined) ?? []) secret.tags.delete(key);
    secret.lastChangedAt = this.now();
    return {};
  }

  describeSecret(input: Json): Json {
    const secret = this.find(required(input, 'SecretId'));
    return { ...this.describeOutput(secret), VersionIdsToStages: this.stagesOf(secret) };
  }

  getSecretValue(input: Json): Json {
    const secret = this.live(required(input, 'SecretId'));
    const versionId = str(input, 'VersionId');
    const stage = str(input, 'VersionStage') ?? (versionId ? undefined : 'AWSCURRENT');
    const version = [...secret.versions.values()].find(
      (candidate) => (!versionId || candidate.id === versionId) && (!stage || candidate.stages.has(stage)),
    );
    if (!version) {
      throw new SecretsManagerError(
        'ResourceNotFoundException',
        versionId
          ? `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`
          : `Secrets Manager can't find the specified secret value for staging label: ${stage}`,
      );
    }
    return {
      ARN: secret.arn,
      Name: secret.name,
      VersionId: version.id,
      ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined
        ? { SecretBinary: version.secretBinary.toString('base64') }
        : {}),
      VersionStages: [...version.stages],
      CreatedDate: seconds(version.createdAt),
    };
  }

  listSecrets(input: Json): Json {
    const filters = (input.Filters as Array<{ Key?: string; Values?: string[] }> | undefined) ?? [];
    const includeDeleted = input.IncludePlannedDeletion === true;
    const max = (input.MaxResults as number | undefined) ?? 100;
    if (!Number.isInteger(max) || max < 1 || max > 100) {
      throw new SecretsManagerError('InvalidParameterException', 'MaxResults must be between 1 and 100.');
    }
    const start = input.NextToken
      ? Number(Buffer.from(String(input.NextToken), 'base64').toString('utf8'))
      : 0;
    if (!Number.isInteger(start) || start < 0) {
      throw new SecretsManagerError('InvalidNextTokenException', 'The NextToken value is not valid.');
    }
    const all = [...this.secrets.values()]
      .filter((secret) => includeDeleted || !secret.deletedAt)
      .filter((secret) =>
        filters.every((filter) => matchesFilter(secret, filter.Key ?? '', filter.Values ?? [])),
      )
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime() || (a.name < b.name ? -1 : 1));
    if (input.SortOrder === 'desc') all.reverse();
    const page = all.slice(start, start + max);
    const next = start + max < all.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
    return {
      SecretList: page.map((secret) => ({
        ...this.describeOutput(secret),
        SecretVersionsToStages: this.stagesOf(secret),
      })),
      ...(next ? { NextToken: next } : {}),
    };
  }

  /**
   * What a successful rotation leaves behind: a new version labelled AWSCURRENT (the rotation
   * function's finishSecret step). Not an API operation; the server emits RotationSucceeded.
   */
  rotate(secretId: string, value: { secretString?: string; secretBinary?: Buffer }): Json {
    const secret = this.live(secretId);
    const version = this.addVersion(secret, value, undefined);
    return { ARN: secret.arn, Name: secret.name, VersionId: version.id };
  }

  /** Every secret's name, for a sandbox page; never values. */
  names(): string[] {
    return [...this.secrets.keys()].sort();
  }
}

/** One ListSecrets filter: values are ORed, `!value` negates, the key decides how a value matches. */
function matchesFilter(secret: Secret, key: string, values: readonly string[]): boolean {
  const positive = values.filter((value) => !value.startsWith('!'));
  const negative = values.filter((value) => value.startsWith('!')).map((value) => value.slice(1));
  const test = (value: string): boolean => {
    switch (key) {
      case 'name':
        return secret.name.startsWith(value);
      case 'description':
        return (secret.description ?? '').toLowerCase().startsWith(value.toLowerCase());
      case 'tag-key':
        return [...secret.tags.keys()].some((tag) => tag.startsWith(value));
      case 'tag-value':
        return [...secret.tags.values()].some((tag) => tag.startsWith(value));
      case 'all': {
        const haystack = [
          secret.name,
          secret.description ?? '',
          ...secret.tags.keys(),
          ...secret.tags.values(),
        ]
          .join(' ')
          .toLowerCase();
        return value
          .toLowerCase()
          .split(/[^a-z0-9]+/)
          .filter(Boolean)
          .every((word) => haystack.includes(word));
      }
      case 'primary-region':
      case 'owning-service':
        return false;
      default:
        throw new SecretsManagerError('InvalidParameterException', `Invalid filter key: ${key}`);
    }
  };
  return (positive.length === 0 || positive.some(test)) && !negative.some(test);
}
