/**
 * In-place YAML edits through the `yaml` package's CST. The Document API re-renders a whole file
 * (sequence indentation, comment spacing, flow collections change); the CST keeps every source
 * token, so a scalar changes where it stands and a key that must be added takes the indentation of
 * the collection it joins. Everything else in the file stays byte for byte as it was.
 */
import { isDeepStrictEqual } from 'node:util';
import { CST, Parser, parse, parseAllDocuments } from 'yaml';
import { TerminalError } from '../errors.js';

/** A change to a GitOps file that cannot be made as asked; the message says what to fix. */
export class ManifestEditError extends TerminalError {
  override name = 'ManifestEditError';
  constructor(
    readonly file: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The file is not valid YAML (or holds more than one document). */
export class YamlSyntaxError extends ManifestEditError {
  override name = 'YamlSyntaxError';
}

/** The file's shape does not allow the edit: a missing entry, a key that is not a map, an alias. */
export class ManifestShapeError extends ManifestEditError {
  override name = 'ManifestShapeError';
}

/** What an edit did to a file. */
export interface EditResult {
  readonly status: 'changed' | 'unchanged';
  /** The file after the edit; the input itself when unchanged. */
  readonly content: string;
  /** The tag the file held before, or null when there was none. */
  readonly previousTag: string | null;
  /** The digest the file held before, or null when there was none (or none is kept there). */
  readonly previousDigest: string | null;
}

export type CstMap = CST.BlockMap | CST.FlowCollection;
export type CstSeq = CST.BlockSequence | CST.FlowCollection;
export type CstItem = CST.CollectionItem;

/** One YAML document's CST, with the stream tokens around it so the file can be written back. */
export interface CstFile {
  readonly file: string;
  readonly tokens: CST.Token[];
  readonly document: CST.Document;
  /** The file ends its lines with CRLF; inserted lines do the same. */
  readonly crlf: boolean;
}

/** Parses a file for editing. Syntax errors (and multi-document files) are YamlSyntaxErrors. */
export function parseForEdit(file: string, source: string): CstFile {
  const documents = parseAllDocuments(source, { prettyErrors: true });
  const list = Array.isArray(documents) ? documents : [];
  for (const document of list) {
    const error = document.errors[0];
    if (error) {
      const where = error.linePos ? ` at line ${error.linePos[0].line}, column ${error.linePos[0].col}` : '';
      const first = (error.message.split('\n')[0] ?? error.message).replace(
        / at line \d+, column \d+:?$/,
        '',
      );
      throw new YamlSyntaxError(file, `${file} is not valid YAML${where}: ${first}`, { cause: error });
    }
  }
  if (list.length > 1) {
    throw new YamlSyntaxError(file, `${file} holds ${list.length} YAML documents; expected one`);
  }
  const tokens = Array.from(new Parser().parse(source));
  const document = tokens.find((token): token is CST.Document => token.type === 'document');
  if (!document || document.value === undefined) {
    throw new ManifestShapeError(file, `${file} is empty; expected a YAML map`);
  }
  return { file, tokens, document, crlf: source.includes('\r\n') };
}

/** Writes the (edited) tokens back: untouched tokens print their original source. */
export function stringifyFile(cst: CstFile): string {
  const text = cst.tokens.map((token) => CST.stringify(token)).join('');
  // Inserted tokens end in `\n`; in a CRLF file every original line break is already `\r\n`.
  return cst.crlf ? text.replace(/(?<!\r)\n/g, '\r\n') : text;
}

export function asMap(token: CST.Token | null | undefined): CstMap | undefined {
  if (!token) return undefined;
  if (token.type === 'block-map') return token;
  if (token.type === 'flow-collection' && token.start.type === 'flow-map-start') return token;
  return undefined;
}

export function asSeq(token: CST.Token | null | undefined): CstSeq | undefined {
  if (!token) return undefined;
  if (token.type === 'block-seq') return token;
  if (token.type === 'flow-collection' && token.start.type === 'flow-seq-start') return token;
  return undefined;
}

/** The string value of a scalar token; null for an empty or null scalar; undefined for anything else. */
export function scalarValue(token: CST.Token | null | undefined): string | null | undefined {
  if (!token) return null;
  if (!CST.isScalar(token)) return undefined;
  const resolved = CST.resolveAsScalar(token, true, () => undefined);
  if (!resolved) return undefined;
  if (token.type === 'scalar' && /^(?:~|null|Null|NULL|)$/.test(resolved.value)) return null;
  return resolved.value;
}

/** The key of a map item when it is a plain or quoted scalar. */
export function keyOf(item: CstItem): string | undefined {
  if (!item.key || !CST.isScalar(item.key)) return undefined;
  return CST.resolveAsScalar(item.key, true, () => undefined)?.value;
}

/** Index of the pair with this key, or -1. */
export function findPair(map: CstMap, key: string): number {
  return map.items.findIndex((item) => item.sep !== undefined && keyOf(item) === key);
}

const isFlow = (token: CST.Token) => token.type === 'flow-collection';

const space = (width: number, indent = 0): CST.SourceToken => ({
  type: 'space',
  offset: -1,
  indent,
  source: ' '.repeat(width),
});
const newline = (indent = 0): CST.SourceToken => ({ type: 'newline', offset: -1, indent, source: '\n' });

/**
 * Whether a string reads back as the same string when written plain. Tags like `1.10`, `true` or
 * `null` would come back as a number, boolean or null (YAML 1.1 readers also take `yes`/`on`).
 */
function plainReadsBack(value: string, inFlow: boolean): boolean {
  const token = CST.createScalarToken(value, { indent: 0, inFlow, type: 'PLAIN', end: [] });
  if (token.type !== 'scalar') return true;
  try {
    return parse(token.source) === value && parse(token.source, { version: '1.1' }) === value;
  } catch {
    return false;
  }
}

/** Sets a scalar token's value, keeping its quoting style unless plain would change its type. */
function setScalar(token: CST.FlowScalar | CST.BlockScalar, value: string, inFlow: boolean): void {
  const needsQuotes = token.type === 'scalar' && !plainReadsBack(value, inFlow);
  CST.setScalarValue(token, value, { inFlow, ...(needsQuotes ? { type: 'QUOTE_DOUBLE' as const } : {}) });
}

/** A new scalar token; quoted when a plain one would read back as another type. */
function scalarToken(value: string, indent: number, inFlow: boolean, end: CST.SourceToken[]) {
  const type = plainReadsBack(value, inFlow) ? 'PLAIN' : 'QUOTE_DOUBLE';
  return CST.createScalarToken(value, { indent, inFlow, type, end });
}

/**
 * The array holding the last source tokens of an item, where a trailing newline (and the next
 * line's indentation, after an empty value) lives; undefined for a block scalar.
 */
function lastTokens(item: CstItem): CST.SourceToken[] | undefined {
  const value = item.value;
  if (value) {
    switch (value.type) {
      case 'scalar':
      case 'single-quoted-scalar':
      case 'double-quoted-scalar':
      case 'alias':
        value.end ??= [];
        return value.end;
      case 'flow-collection':
        return value.end;
      case 'block-map':
      case 'block-seq': {
        const last = value.items.at(-1);
        return last ? lastTokens(last) : undefined;
      }
      default:
        return undefined;
    }
  }
  return item.sep ?? item.start;
}

/**
 * Removes the indentation that follows the last newline of an item (it belongs to whatever comes
 * next) and returns its width, so it can be put back after an inserted item.
 */
function takeTrailingIndent(item: CstItem): number {
  const tokens = lastTokens(item);
  const last = tokens?.at(-1);
  if (tokens && last?.type === 'space' && tokens.at(-2)?.type === 'newline') {
    tokens.pop();
    return last.source.length;
  }
  return 0;
}

/** Trailing spaces of a flow item (before `,` or `}`), taken so they stay before the closing bracket. */
function takeTrailingSpace(item: CstItem): CST.SourceToken[] {
  const tokens = lastTokens(item);
  const taken: CST.SourceToken[] = [];
  while (tokens && tokens.at(-1)?.type === 'space') taken.unshift(tokens.pop()!);
  return taken;
}

function endsWithNewline(item: CstItem): boolean {
  return CST.stringify(item).endsWith('\n');
}

/** Inserts an item into a block collection at `index` (≥ 1), on its own line at `indent`. */
function insertBlockItem(collection: CST.BlockMap | CST.BlockSequence, index: number, item: CstItem) {
  const previous = collection.items[index - 1];
  if (!previous) throw new Error('a block item is only inserted after another item');
  const carried = takeTrailingIndent(previous);
  if (!endsWithNewline(previous)) lastTokens(previous)?.push(newline());
  if (collection.indent > 0) item.start.unshift(space(collection.indent));
  if (carried > 0) lastTokens(item)?.push(space(carried));
  (collection.items as CstItem[]).splice(index, 0, item);
}

/** Inserts an item into a flow collection at `index`, separated by `, `. */
function insertFlowItem(collection: CST.FlowCollection, index: number, item: CstItem) {
  const previous = collection.items[index - 1];
  if (previous) {
    const trailing = takeTrailingSpace(previous);
    item.start.unshift({ type: 'comma', offset: -1, indent: 0, source: ',' }, space(1));
    lastTokens(item)?.push(...trailing);
  } else if (collection.items[0]) {
    collection.items[0].start.unshift({ type: 'comma', offset: -1, indent: 0, source: ',' }, space(1));
  }
  collection.items.splice(index, 0, item);
}

/** Inserts `key: value` (a string scalar) into a map at `index`. */
export function insertScalarPair(map: CstMap, index: number, key: string, value: string): void {
  const flow = isFlow(map);
  const indent = flow ? 0 : map.indent;
  const item: CstItem = {
    start: [],
    key: CST.createScalarToken(key, { indent, implicitKey: true, inFlow: flow, end: [] }),
    sep: [
      { type: 'map-value-ind', offset: -1, indent, source: ':' },
      { type: 'space', offset: -1, indent, source: ' ' },
    ],
    value: scalarToken(value, indent, flow, flow ? [] : [newline(indent)]),
  };
  if (map.type === 'flow-collection') insertFlowItem(map, index, item);
  else insertBlockItem(map, index, item);
}

/** Inserts an item parsed from a fragment (see parseFragment) into a collection at `index`. */
export function insertItem(collection: CstMap | CstSeq, index: number, item: CstItem): void {
  if (collection.type === 'flow-collection') insertFlowItem(collection, index, item);
  else insertBlockItem(collection, index, item);
}

/** Replaces a whole item with one parsed from a fragment, keeping the comments that led into it. */
export function replaceItem(collection: CstMap | CstSeq, index: number, item: CstItem): void {
  const items = collection.items as CstItem[];
  const old = items[index];
  if (!old) throw new Error(`no item ${index}`);
  const carried = collection.type === 'flow-collection' ? 0 : takeTrailingIndent(old);
  item.start = old.start;
  if (carried > 0) lastTokens(item)?.push(space(carried));
  items[index] = item;
}

/** Sets the value of a map pair to a string scalar; the pair's value must be a scalar or empty. */
export function setPairValue(map: CstMap, index: number, value: string, file: string, what: string): void {
  const item = map.items[index];
  if (!item) throw new Error(`no item ${index}`);
  const flow = isFlow(map);
  const current = item.value;
  if (current && CST.isScalar(current)) {
    setScalar(current, value, flow);
    return;
  }
  if (current) {
    throw new ManifestShapeError(
      file,
      `${file}: ${what} is not a plain value (${current.type}); set it by hand`,
    );
  }
  // An empty value (`newTag:`): the separator holds what follows the colon; it moves after the value.
  const sep = item.sep ?? [];
  const colon = sep.findIndex((token) => token.type === 'map-value-ind');
  const after = sep.splice(colon + 1);
  while (after[0]?.type === 'space') after.shift();
  if (after[0]?.type === 'comment') after.unshift(space(1));
  sep.push(space(1));
  const indent = flow ? 0 : map.indent;
  item.value = scalarToken(value, indent, flow, after);
}

/** Removes a pair (or sequence item) from a collection, keeping the lines around it intact. */
export function removeItem(collection: CstMap | CstSeq, index: number): void {
  const items = collection.items as CstItem[];
  const removed = items[index];
  if (!removed) return;
  if (collection.type === 'flow-collection') {
    const trailing = takeTrailingSpace(removed);
    items.splice(index, 1);
    const previous = items[index - 1];
    if (previous) lastTokens(previous)?.push(...trailing);
    else if (items[0]) {
      const start = items[0].start;
      while (start[0]?.type === 'comma' || start[0]?.type === 'space') start.shift();
      items[0].start = [...removed.start, ...start];
    }
    return;
  }
  const carried = takeTrailingIndent(removed);
  items.splice(index, 1);
  const previous = items[index - 1];
  if (previous) {
    // The previous item may end with the removed item's indentation; it now leads into the next one.
    takeTrailingIndent(previous);
    if (carried > 0) lastTokens(previous)?.push(space(carried));
    return;
  }
  const next = items[0];
  if (next) {
    // The removed item was first: whatever stood before it (`- `, or nothing) now precedes the next one.
    const start = next.start;
    if (start[0]?.type === 'space') start.shift();
    next.start = [...removed.start, ...start];
  }
}

/**
 * Parses a fragment of YAML written at the right indentation and returns the first item of its
 * top-level collection, ready to be inserted with insertItem. The fragment is valid YAML on its own.
 */
export function parseFragment(text: string): CstItem {
  const document = Array.from(new Parser().parse(text)).find(
    (token): token is CST.Document => token.type === 'document',
  );
  const value = document?.value;
  const item =
    value && (value.type === 'block-map' || value.type === 'block-seq' || value.type === 'flow-collection')
      ? (value.items[0] as CstItem | undefined)
      : undefined;
  if (!item) throw new Error(`not a collection fragment: ${JSON.stringify(text)}`);
  return item;
}

/** Writes a string as a YAML scalar for a fragment: plain when it reads back, double-quoted when not. */
export function fragmentScalar(value: string, inFlow = false): string {
  return scalarToken(value, 0, inFlow, []).source;
}

/**
 * How far the file indents a block collection under its parent key (2 unless the file shows
 * otherwise), measured on the first nested block map found.
 */
export function indentStep(cst: CstFile): number {
  let step: number | undefined;
  CST.visit(cst.document, (item, path) => {
    if (step !== undefined) return CST.visit.BREAK;
    const value = item.value;
    if (value?.type === 'block-map' && item.key && path.length > 0) {
      const parent = CST.visit.parentCollection(cst.document, path);
      if (parent.type === 'block-map' && value.indent > parent.indent) step = value.indent - parent.indent;
    }
    return undefined;
  });
  return step ?? 2;
}

/**
 * Runs a guard after an edit: the new text must parse to exactly the old data with the intended
 * change applied. An edit that would touch anything else is refused rather than written.
 */
export function assertOnlyIntendedChange(
  file: string,
  before: string,
  after: string,
  apply: (data: unknown) => void,
): void {
  let expected: unknown;
  try {
    expected = parse(before);
  } catch (error) {
    // The CST edit never expands aliases; reading the data does, and `yaml` refuses an alias bomb.
    throw new ManifestShapeError(
      file,
      `${file} cannot be read as data (${(error as Error).message}); the file was left as it was`,
      { cause: error },
    );
  }
  apply(expected);
  let actual: unknown;
  try {
    actual = parse(after);
  } catch (error) {
    throw new ManifestEditError(file, `editing ${file} produced invalid YAML; the file was left as it was`, {
      cause: error,
    });
  }
  if (!isDeepStrictEqual(actual, expected)) {
    throw new ManifestEditError(
      file,
      `editing ${file} would change more than the intended keys; the file was left as it was (please report this file's layout)`,
    );
  }
}
