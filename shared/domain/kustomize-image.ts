/**
 * Sets an image in a kustomization's `images:` list the way `kustomize edit set image` does, but
 * in place: only the entry's values change, every other byte of the file stays as it was.
 *
 * - `newTag` is set; `digest` is set too when the stage pins digests, and removed when it does not
 *   (a stale digest would override the new tag).
 * - `newName` is only touched when the app configures one.
 * - A missing entry is an error naming the file and the image, unless `createIfMissing`.
 */
import type { CST } from 'yaml';
import {
  asMap,
  asSeq,
  assertOnlyIntendedChange,
  type CstFile,
  type CstMap,
  type CstSeq,
  type EditResult,
  findPair,
  fragmentScalar,
  insertItem,
  insertScalarPair,
  ManifestShapeError,
  parseForEdit,
  parseFragment,
  removeItem,
  replaceItem,
  scalarValue,
  setPairValue,
  stringifyFile,
} from './yaml-edit.js';

export interface KustomizeImageEdit {
  /** The entry's `name`: the image as the manifests reference it. */
  readonly image: string;
  /** Written to `newName` only when set. */
  readonly newName?: string | undefined;
  readonly tag: string;
  /** `sha256:…`, written when the stage pins digests; when absent a stale `digest` is removed. */
  readonly digest?: string | undefined;
  /** Add a missing entry (and a missing `images:` list) instead of failing. @default false */
  readonly createIfMissing?: boolean | undefined;
}

/** The kustomization has no `images` entry for the image, and the stage does not create one. */
export class ImageEntryMissingError extends ManifestShapeError {
  override name = 'ImageEntryMissingError';
  constructor(
    file: string,
    readonly image: string,
  ) {
    super(
      file,
      `${file} has no images entry for ${image}: add "- name: ${image}" under images:, or set createIfMissing: true on the stage`,
    );
  }
}

interface ImageEntryData {
  name?: unknown;
  newName?: unknown;
  newTag?: unknown;
  digest?: unknown;
}

/** Applies the edit to a kustomization file's text. */
export function setKustomizeImage(file: string, source: string, edit: KustomizeImageEdit): EditResult {
  const cst = parseForEdit(file, source);
  const root = asMap(cst.document.value);
  if (!root) throw new ManifestShapeError(file, `${file} is not a kustomization: its top level is not a map`);

  const imagesIndex = findPair(root, 'images');
  const imagesItem = root.items[imagesIndex];
  const images = imagesItem ? asSeq(imagesItem.value) : undefined;
  if (imagesItem && !images && scalarValue(imagesItem.value) !== null) {
    throw new ManifestShapeError(file, `${file}: images is not a list`);
  }

  const entries = images ? entriesNamed(images, edit.image) : [];
  if (entries.length > 1) {
    throw new ManifestShapeError(
      file,
      `${file} has ${entries.length} images entries named ${edit.image}; keep one`,
    );
  }
  const entry = entries[0];

  if (!entry) {
    if (!edit.createIfMissing) throw new ImageEntryMissingError(file, edit.image);
    addEntry(cst, root, imagesIndex, images, edit);
    const content = stringifyFile(cst);
    assertOnlyIntendedChange(file, source, content, (data) => {
      const object = data as { images?: unknown };
      const list = Array.isArray(object.images) ? object.images : [];
      list.push(entryData(edit));
      object.images = list;
    });
    return { status: 'changed', content, previousTag: null, previousDigest: null };
  }

  const { previousTag, previousDigest } = editEntry(file, entry.map, edit);
  const content = stringifyFile(cst);
  if (content === source) return { status: 'unchanged', content: source, previousTag, previousDigest };
  assertOnlyIntendedChange(file, source, content, (data) => {
    const list = (data as { images: ImageEntryData[] }).images;
    const target = list.find((item) => item?.name === edit.image);
    if (!target) return;
    if (edit.newName !== undefined) target.newName = edit.newName;
    target.newTag = edit.tag;
    if (edit.digest !== undefined) target.digest = edit.digest;
    else delete target.digest;
  });
  return { status: 'changed', content, previousTag, previousDigest };
}

function entriesNamed(images: CstSeq, image: string): { index: number; map: CstMap }[] {
  const found: { index: number; map: CstMap }[] = [];
  images.items.forEach((item, index) => {
    const map = asMap(item.value);
    if (!map) return;
    const nameIndex = findPair(map, 'name');
    if (nameIndex >= 0 && scalarValue(map.items[nameIndex]?.value) === image) found.push({ index, map });
  });
  return found;
}

/** Sets the entry's values in place; returns the tag and digest it held before. */
function editEntry(
  file: string,
  map: CstMap,
  edit: KustomizeImageEdit,
): { previousTag: string | null; previousDigest: string | null } {
  const what = (key: string) => `images[name=${edit.image}].${key}`;
  const valueAt = (key: string) => {
    const index = findPair(map, key);
    if (index < 0) return { index, value: null };
    const value = scalarValue(map.items[index]?.value);
    if (value === undefined) {
      throw new ManifestShapeError(file, `${file}: ${what(key)} is not a plain value; set it by hand`);
    }
    return { index, value };
  };
  const upsert = (key: string, value: string, after: readonly string[]) => {
    const current = valueAt(key);
    if (current.index >= 0) {
      if (current.value !== value) setPairValue(map, current.index, value, file, what(key));
      return;
    }
    const anchor = Math.max(...after.map((name) => findPair(map, name)));
    insertScalarPair(map, anchor >= 0 ? anchor + 1 : lastPairIndex(map) + 1, key, value);
  };

  const previousTag = valueAt('newTag').value;
  const previousDigest = valueAt('digest').value;
  if (edit.newName !== undefined) upsert('newName', edit.newName, ['name']);
  upsert('newTag', edit.tag, ['name', 'newName']);
  if (edit.digest !== undefined) upsert('digest', edit.digest, ['name', 'newName', 'newTag']);
  else {
    const digest = findPair(map, 'digest');
    if (digest >= 0) removeItem(map, digest);
  }
  return { previousTag, previousDigest };
}

function lastPairIndex(collection: CstMap | CstSeq): number {
  for (let index = collection.items.length - 1; index >= 0; index--) {
    const item = collection.items[index];
    if (item && (item.sep !== undefined || item.value !== undefined)) return index;
  }
  return collection.items.length - 1;
}

function entryData(edit: KustomizeImageEdit): ImageEntryData {
  return {
    name: edit.image,
    ...(edit.newName !== undefined ? { newName: edit.newName } : {}),
    newTag: edit.tag,
    ...(edit.digest !== undefined ? { digest: edit.digest } : {}),
  };
}

function entryPairs(edit: KustomizeImageEdit): [string, string][] {
  return Object.entries(entryData(edit)) as [string, string][];
}

/** Adds a new entry: to the existing list in its own style, or as a new `images:` list. */
function addEntry(
  cst: CstFile,
  root: CstMap,
  imagesIndex: number,
  images: CstSeq | undefined,
  edit: KustomizeImageEdit,
): void {
  const pairs = entryPairs(edit);
  const flowEntry = `{${pairs.map(([key, value]) => `${key}: ${fragmentScalar(value, true)}`).join(', ')}}`;

  if (images?.type === 'flow-collection') {
    const item = parseFragment(`[${flowEntry}]`);
    insertItem(images, lastPairIndex(images) + 1, item);
    return;
  }
  if (images) {
    const { offset, dash } = entryLayout(images);
    const lines = pairs.map(([key, value], index) => {
      const lead = index === 0 ? `${' '.repeat(images.indent)}-${' '.repeat(dash)}` : ' '.repeat(offset);
      return `${lead}${key}: ${fragmentScalar(value)}\n`;
    });
    insertItem(images, lastPairIndex(images) + 1, parseFragment(lines.join('')));
    return;
  }

  // No list yet (no `images:` key, or an empty one).
  if (root.type === 'flow-collection') {
    const item = parseFragment(`{images: [${flowEntry}]}`);
    if (imagesIndex >= 0) replaceItem(root, imagesIndex, item);
    else insertItem(root, lastPairIndex(root) + 1, item);
    return;
  }
  const seqIndent = root.indent + sequenceIndent(cst);
  const lines = [`${' '.repeat(root.indent)}images:\n`];
  pairs.forEach(([key, value], index) => {
    const lead = index === 0 ? `${' '.repeat(seqIndent)}- ` : ' '.repeat(seqIndent + 2);
    lines.push(`${lead}${key}: ${fragmentScalar(value)}\n`);
  });
  const item = parseFragment(lines.join(''));
  if (imagesIndex >= 0) replaceItem(root, imagesIndex, item);
  else {
    item.start = [];
    insertItem(root, lastPairIndex(root) + 1, item);
  }
}

/** Where an entry's keys start (column) and the spaces after its `-`, copied from existing entries. */
function entryLayout(images: CST.BlockSequence): { offset: number; dash: number } {
  for (const item of images.items) {
    const map = item.value;
    if (map?.type === 'block-map') {
      return { offset: map.indent, dash: Math.max(1, map.indent - images.indent - 1) };
    }
  }
  return { offset: images.indent + 2, dash: 1 };
}

/** How the file indents a block list under its key: 0 (`key:\n- a`) or more (`key:\n  - a`). */
function sequenceIndent(cst: CstFile): number {
  const root = cst.document.value;
  if (root?.type !== 'block-map') return 0;
  for (const item of root.items) {
    if (item.value?.type === 'block-seq') return item.value.indent - root.indent;
  }
  return 0;
}

/** What a kustomization's `images` entry pins; each field null when the entry does not set it. */
export interface KustomizeImageEntry {
  readonly newName: string | null;
  readonly newTag: string | null;
  readonly digest: string | null;
}

/**
 * Reads the `images` entry for an image: null when the file has none. The same parsing as the edit,
 * so a file the committer could edit reads the same way here; a shape it would refuse (two entries
 * for the image, a value that is not plain) is a ManifestShapeError.
 */
export function readKustomizeImage(file: string, source: string, image: string): KustomizeImageEntry | null {
  const root = asMap(parseForEdit(file, source).document.value);
  if (!root) throw new ManifestShapeError(file, `${file} is not a kustomization: its top level is not a map`);
  const images = asSeq(root.items[findPair(root, 'images')]?.value);
  const entries = images ? entriesNamed(images, image) : [];
  if (entries.length > 1) {
    throw new ManifestShapeError(
      file,
      `${file} has ${entries.length} images entries named ${image}; keep one`,
    );
  }
  const entry = entries[0];
  if (!entry) return null;
  const pinnedValue = (key: string): string | null => {
    const index = findPair(entry.map, key);
    if (index < 0) return null;
    const value = scalarValue(entry.map.items[index]?.value);
    if (value === undefined) {
      throw new ManifestShapeError(file, `${file}: images[name=${image}].${key} is not a plain value`);
    }
    return value || null;
  };
  return { newName: pinnedValue('newName'), newTag: pinnedValue('newTag'), digest: pinnedValue('digest') };
}
