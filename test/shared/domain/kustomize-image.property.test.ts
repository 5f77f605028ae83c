import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { setKustomizeImage } from '../../../shared/domain/kustomize-image.js';

/**
 * Random valid kustomization files, written the many ways people write them: list indented or not,
 * block or flow entries, keys in any order, quoted or plain values, comments before entries and
 * after values, with or without a final newline. Each entry's text span is known, so the property
 * can say exactly which bytes may change.
 */

type Style = 'plain' | 'single' | 'double';

interface EntryModel {
  readonly name: string;
  readonly keys: readonly { readonly key: string; readonly value: string; readonly style: Style }[];
  readonly flow: boolean;
  readonly commentBefore: boolean;
  readonly trailingComment: boolean;
}

interface FileModel {
  readonly seqIndent: number;
  readonly entries: readonly EntryModel[];
  readonly before: readonly string[];
  readonly after: readonly string[];
  readonly finalNewline: boolean;
}

const readsBackPlain = (value: string) => {
  try {
    return parse(value) === value && parse(value, { version: '1.1' }) === value;
  } catch {
    return false;
  }
};

function scalar(value: string, style: Style): string {
  if (style === 'single') return `'${value}'`;
  if (style === 'double' || !readsBackPlain(value)) return JSON.stringify(value);
  return value;
}

const tagArb = fc.oneof(
  fc.stringMatching(/^v\d{1,2}\.\d{1,2}\.\d{1,2}(-rc\.\d)?$/),
  fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,12}$/),
  fc.constantFrom('1.10', 'true', 'null', 'on', '0x1f', '1e3', 'latest', '2024.01.05'),
);
const digestArb = fc.stringMatching(/^[0-9a-f]{64}$/).map((hex) => `sha256:${hex}`);
const styleArb = fc.constantFrom<Style>('plain', 'single', 'double');

const entryArb = (name: string) =>
  fc
    .record({
      newName: fc.option(
        fc.constantFrom('registry.example/app', '123456789012.dkr.ecr.eu-west-1.amazonaws.com/x'),
      ),
      newTag: fc.option(tagArb),
      digest: fc.option(digestArb),
      order: fc.shuffledSubarray(['newName', 'newTag', 'digest'], { minLength: 3, maxLength: 3 }),
      namePosition: fc.nat({ max: 3 }),
      styles: fc.array(styleArb, { minLength: 4, maxLength: 4 }),
      flow: fc.boolean(),
      commentBefore: fc.boolean(),
      trailingComment: fc.boolean(),
    })
    .map(({ order, namePosition, styles, ...rest }): EntryModel => {
      const values: Record<string, string | null> = {
        newName: rest.newName,
        newTag: rest.newTag,
        digest: rest.digest,
      };
      const keys = order
        .filter((key) => values[key] !== null)
        .map((key, index) => ({ key, value: values[key]!, style: styles[index]! }));
      keys.splice(Math.min(namePosition, keys.length), 0, { key: 'name', value: name, style: styles[3]! });
      return {
        name,
        keys,
        flow: rest.flow,
        commentBefore: rest.commentBefore,
        trailingComment: rest.trailingComment,
      };
    });

const fileArb: fc.Arbitrary<FileModel> = fc
  .uniqueArray(fc.stringMatching(/^itdo-erp\/[a-z]{2,8}$/), { minLength: 1, maxLength: 6 })
  .chain((names) =>
    fc.record({
      seqIndent: fc.constantFrom(0, 2, 4),
      entries: fc.tuple(...names.map(entryArb)),
      before: fc.shuffledSubarray(
        [
          'apiVersion: kustomize.config.k8s.io/v1beta1',
          'kind: Kustomization',
          'namespace: itdo-erp',
          '# overlay',
        ],
        { minLength: 0 },
      ),
      after: fc.shuffledSubarray(['resources:\n- ../../base', 'patches: [{path: p.yaml}]', '# end'], {
        minLength: 0,
      }),
      finalNewline: fc.boolean(),
    }),
  );

/** Renders the file and records where each entry's text begins and ends. */
function render(model: FileModel): { text: string; spans: [number, number][] } {
  const pad = ' '.repeat(model.seqIndent);
  let text = `${model.before.map((line) => `${line}\n`).join('')}images:\n`;
  const spans: [number, number][] = [];
  for (const entry of model.entries) {
    if (entry.commentBefore) text += `${pad}# ${entry.name}\n`;
    const start = text.length;
    if (entry.flow) {
      text += `${pad}- {${entry.keys.map((k) => `${k.key}: ${scalar(k.value, k.style)}`).join(', ')}}`;
    } else {
      text += entry.keys
        .map((k, index) => `${index === 0 ? `${pad}- ` : `${pad}  `}${k.key}: ${scalar(k.value, k.style)}`)
        .join('\n');
    }
    if (entry.trailingComment) text += ' # note';
    text += '\n';
    spans.push([start, text.length]);
  }
  text += model.after.map((line) => `${line}\n`).join('');
  if (!model.finalNewline) text = text.slice(0, -1);
  return { text, spans };
}

const editArb = fc.record({
  target: fc.nat(),
  tag: tagArb,
  digest: fc.option(digestArb, { nil: undefined }),
  newName: fc.option(fc.constant('registry.example/moved'), { nil: undefined }),
});

describe('setKustomizeImage on random kustomizations', () => {
  it('changes only the target entry, and a second identical edit is a no-op', () => {
    fc.assert(
      fc.property(fileArb, editArb, (model, edit) => {
        // Prepare
        const { text, spans } = render(model);
        const index = edit.target % model.entries.length;
        const target = model.entries[index]!;
        const [start, end] = spans[index]!;
        const request = { image: target.name, tag: edit.tag, digest: edit.digest, newName: edit.newName };

        // Act
        const first = setKustomizeImage('kustomization.yaml', text, request);
        const second = setKustomizeImage('kustomization.yaml', first.content, request);

        // Assess: bytes before and after the entry are untouched
        expect(first.content.startsWith(text.slice(0, start))).toBe(true);
        const suffix = text.slice(end);
        expect(first.content.endsWith(suffix)).toBe(true);
        // the data: the target entry holds the new values, everything else is equal
        const before = parse(text) as { images: Record<string, unknown>[] };
        const after = parse(first.content) as { images: Record<string, unknown>[] };
        const expected = structuredClone(before);
        const entry = expected.images[index]!;
        entry.newTag = edit.tag;
        if (edit.newName !== undefined) entry.newName = edit.newName;
        if (edit.digest !== undefined) entry.digest = edit.digest;
        else delete entry.digest;
        expect(after).toEqual(expected);
        // the previous tag and the status say what happened
        const previous = target.keys.find((k) => k.key === 'newTag')?.value ?? null;
        expect(first.previousTag).toBe(previous);
        expect(first.previousDigest).toBe(target.keys.find((k) => k.key === 'digest')?.value ?? null);
        expect(first.status).toBe(first.content === text ? 'unchanged' : 'changed');
        // idempotent
        expect(second).toEqual({
          status: 'unchanged',
          content: first.content,
          previousTag: edit.tag,
          previousDigest: edit.digest ?? null,
        });
      }),
      { numRuns: 300 },
    );
  });

  it('adds a missing entry without touching the existing ones when createIfMissing is set', () => {
    fc.assert(
      fc.property(fileArb, tagArb, fc.option(digestArb, { nil: undefined }), (model, tag, digest) => {
        const { text } = render(model);
        const request = { image: 'itdo-erp/new-app', tag, digest, createIfMissing: true };

        const first = setKustomizeImage('kustomization.yaml', text, request);
        const second = setKustomizeImage('kustomization.yaml', first.content, request);

        const before = parse(text) as { images: unknown[] };
        const after = parse(first.content) as { images: unknown[] };
        expect(after.images.slice(0, -1)).toEqual(before.images);
        expect(after.images.at(-1)).toEqual({
          name: 'itdo-erp/new-app',
          newTag: tag,
          ...(digest ? { digest } : {}),
        });
        expect(second.status).toBe('unchanged');
      }),
      { numRuns: 150 },
    );
  });
});
