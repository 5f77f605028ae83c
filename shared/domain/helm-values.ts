/**
 * Sets an image tag (and digest) in a Helm values file by key path, in place: the scalar changes
 * where it stands and every other byte of the file stays as it was. A stage names the paths, e.g.
 * `valuesPath: backend.image.tag`, `digestPath: backend.image.digest`; `{app}` stands for the app.
 */
import {
  asMap,
  asSeq,
  assertOnlyIntendedChange,
  type CstFile,
  type CstMap,
  type EditResult,
  findPair,
  fragmentScalar,
  indentStep,
  insertItem,
  insertScalarPair,
  ManifestShapeError,
  parseForEdit,
  parseFragment,
  replaceItem,
  scalarValue,
  setPairValue,
  stringifyFile,
} from './yaml-edit.js';

export interface HelmValuesEdit {
  /** Key path of the tag, `{app}` already substituted: `backend.image.tag`, `apps[0].tag`. */
  readonly valuesPath: string;
  /** Key path of the digest; written when pinning, emptied when not. */
  readonly digestPath?: string | undefined;
  readonly tag: string;
  /** `sha256:…` when the stage pins digests. */
  readonly digest?: string | undefined;
  /** Create missing keys along the paths instead of failing. @default false */
  readonly createIfMissing?: boolean | undefined;
}

/** A key path that does not lead to a value (and the stage does not create it). */
export class ValuesPathError extends ManifestShapeError {
  override name = 'ValuesPathError';
}

export type KeyPath = readonly (string | number)[];

/** Substitutes `{app}` in a configured key path. */
export function resolveKeyPath(path: string, app: string): string {
  return path.replaceAll('{app}', app);
}

/** Splits `backend.image.tag` / `apps[0].tag` into segments; list indexes become numbers. */
export function parseKeyPath(path: string): KeyPath {
  const segments: (string | number)[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]*)((?:\[\d+\])*)$/.exec(part);
    if (!match || (match[1] === '' && match[2] === '')) {
      throw new ValuesPathError(
        '',
        `invalid key path "${path}": expected keys separated by dots, like backend.image.tag`,
      );
    }
    if (match[1]) segments.push(match[1]);
    for (const index of match[2]?.matchAll(/\[(\d+)\]/g) ?? []) segments.push(Number(index[1]));
  }
  return segments;
}

/** Applies the edit to a values file's text. */
export function setHelmValues(file: string, source: string, edit: HelmValuesEdit): EditResult {
  if (edit.digest !== undefined && edit.digestPath === undefined) {
    throw new ValuesPathError(
      file,
      `the stage pins digests but names no digestPath for ${file}; set digestPath (e.g. backend.image.digest) or turn pinDigest off`,
    );
  }
  const tagPath = parsePath(file, edit.valuesPath);
  const digestPath = edit.digestPath !== undefined ? parsePath(file, edit.digestPath) : undefined;
  const cst = parseForEdit(file, source);
  const create = edit.createIfMissing ?? false;

  const previousTag = readPath(cst, tagPath, file, edit.valuesPath);
  const previousDigest =
    digestPath && edit.digestPath !== undefined
      ? readPath(cst, digestPath, file, edit.digestPath) || null
      : null;
  const expected: [KeyPath, string][] = [[tagPath, edit.tag]];
  writePath(cst, tagPath, edit.tag, { file, path: edit.valuesPath, create });
  if (digestPath && edit.digestPath !== undefined) {
    if (edit.digest !== undefined) {
      // Like kustomize adding `digest:` to an entry: the key may be new, its parent must exist.
      writePath(cst, digestPath, edit.digest, { file, path: edit.digestPath, create, createLeaf: true });
      expected.push([digestPath, edit.digest]);
    } else {
      const stale = readPath(cst, digestPath, file, edit.digestPath);
      if (stale) {
        writePath(cst, digestPath, '', { file, path: edit.digestPath, create: false });
        expected.push([digestPath, '']);
      }
    }
  }

  const content = stringifyFile(cst);
  if (content === source) return { status: 'unchanged', content: source, previousTag, previousDigest };
  assertOnlyIntendedChange(file, source, content, (data) => {
    for (const [path, value] of expected) setIn(data, path, value);
  });
  return { status: 'changed', content, previousTag, previousDigest };
}

function parsePath(file: string, path: string): KeyPath {
  try {
    const segments = parseKeyPath(path);
    if (typeof segments.at(-1) !== 'string')
      throw new ValuesPathError(file, `key path ${path} must end in a key`);
    return segments;
  } catch (error) {
    if (error instanceof ValuesPathError) throw new ValuesPathError(file, `${file}: ${error.message}`);
    throw error;
  }
}

const describe = (path: KeyPath, upTo: number) =>
  path
    .slice(0, upTo)
    .map((segment, index) =>
      typeof segment === 'number' ? `[${segment}]` : index === 0 ? segment : `.${segment}`,
    )
    .join('');

/** The scalar at a path; null when any key along it is missing or the value is empty. */
function readPath(cst: CstFile, path: KeyPath, file: string, text: string): string | null {
  let node = cst.document.value;
  for (const segment of path) {
    if (typeof segment === 'number') {
      const seq = asSeq(node);
      node = seq?.items.filter((item) => item.value !== undefined)[segment]?.value;
    } else {
      const map = asMap(node);
      const index = map ? findPair(map, segment) : -1;
      if (!map || index < 0) return null;
      node = map.items[index]?.value;
    }
    if (!node) return null;
  }
  const value = scalarValue(node);
  if (value === undefined) throw new ValuesPathError(file, `${file}: ${text} is not a plain value`);
  return value;
}

interface WriteOptions {
  readonly file: string;
  readonly path: string;
  /** Create any missing key along the path. */
  readonly create: boolean;
  /** Create the last key when its parent exists. */
  readonly createLeaf?: boolean;
}

function writePath(cst: CstFile, path: KeyPath, value: string, options: WriteOptions): void {
  const { file } = options;
  let node = cst.document.value;
  for (let depth = 0; depth < path.length; depth++) {
    const segment = path[depth]!;
    const last = depth === path.length - 1;
    if (typeof segment === 'number') {
      const seq = asSeq(node);
      if (!seq)
        throw new ValuesPathError(file, `${file}: ${describe(path, depth) || '(top level)'} is not a list`);
      node = seq.items.filter((item) => item.value !== undefined)[segment]?.value;
      if (!node) {
        throw new ValuesPathError(file, `${file} has no ${describe(path, depth + 1)} (the list is shorter)`);
      }
      continue;
    }
    const map = asMap(node);
    if (!map)
      throw new ValuesPathError(file, `${file}: ${describe(path, depth) || '(top level)'} is not a map`);
    const index = findPair(map, segment);
    const item = map.items[index];
    if (!item) {
      if (!options.create && !(last && options.createLeaf)) {
        throw new ValuesPathError(
          file,
          `${file} has no ${options.path} (no key "${segment}" under ${describe(path, depth) || 'the top level'}): add it, or set createIfMissing: true on the stage`,
        );
      }
      if (last) insertScalarPair(map, lastPairIndex(map) + 1, segment, value);
      else insertItem(map, lastPairIndex(map) + 1, nestedFragment(cst, map, path.slice(depth), value, file));
      return;
    }
    if (last) {
      if (scalarValue(item.value) !== value) setPairValue(map, index, value, file, options.path);
      return;
    }
    if (scalarValue(item.value) === null && options.create) {
      replaceItem(map, index, nestedFragment(cst, map, path.slice(depth), value, file));
      return;
    }
    node = item.value;
  }
}

/** `a:\n  b:\n    tag: v1` (or `{a: {b: {tag: v1}}}` in a flow map), written at the map's indentation. */
function nestedFragment(cst: CstFile, map: CstMap, keys: KeyPath, value: string, file: string) {
  if (keys.some((key) => typeof key === 'number')) {
    throw new ValuesPathError(file, `${file}: cannot create list items along a key path; add them by hand`);
  }
  const names = keys as readonly string[];
  if (map.type === 'flow-collection') {
    const text = names.reduceRight(
      (inner, key) => `{${fragmentScalar(key, true)}: ${inner}}`,
      fragmentScalar(value, true),
    );
    return parseFragment(text);
  }
  const step = indentStep(cst);
  const lines = names.map((key, index) => {
    const pad = ' '.repeat(map.indent + index * step);
    return index === names.length - 1 ? `${pad}${key}: ${fragmentScalar(value)}\n` : `${pad}${key}:\n`;
  });
  const item = parseFragment(lines.join(''));
  item.start = [];
  return item;
}

function lastPairIndex(map: CstMap): number {
  for (let index = map.items.length - 1; index >= 0; index--) {
    if (map.items[index]?.sep !== undefined) return index;
  }
  return map.items.length - 1;
}

function setIn(data: unknown, path: KeyPath, value: string): void {
  let node = data as Record<string | number, unknown>;
  path.forEach((segment, index) => {
    if (index === path.length - 1) {
      node[segment] = value;
      return;
    }
    if (node[segment] === null || node[segment] === undefined) node[segment] = {};
    node = node[segment] as Record<string | number, unknown>;
  });
}

/**
 * Reads the plain value at a key path (`{app}` already substituted): null when a key along it is
 * missing or the value is empty (`""` included). The same path rules as the edit; a value that is not plain is a
 * ValuesPathError.
 */
export function readHelmValue(file: string, source: string, path: string): string | null {
  // `digest: ""` is how the edit empties a digest it does not pin.
  return readPath(parseForEdit(file, source), parsePath(file, path), file, path) || null;
}
