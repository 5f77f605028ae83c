import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatPath, loadConfig, parseConfigText } from '../../../shared/config/load.js';
import { ConfigError } from '../../../shared/errors.js';

function problemsOfText(text: string) {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected the text to be invalid');
}

describe('formatPath', () => {
  it('writes key paths the way people read them', () => {
    expect(formatPath(['stages', 1, 'approval', 'timeout'])).toBe('stages[1].approval.timeout');
    expect(formatPath(['apps', 'backend', 'tags'])).toBe('apps.backend.tags');
    expect(formatPath([])).toBe('(root)');
  });
});

describe('parseConfigText', () => {
  it('reports a YAML syntax error with its line and column', () => {
    expect(problemsOfText('gitops:\n\trepository: itdo-erp/infra\n')).toEqual([
      { path: 'line 2, column 1', message: 'Tabs are not allowed as indentation' },
    ]);
  });

  it('refuses a key written twice', () => {
    expect(problemsOfText('gitops:\n  branch: main\ngitops:\n  branch: dev\n')).toEqual([
      { path: 'line 3, column 1', message: 'Map keys must be unique' },
    ]);
  });

  it('says an empty file is empty', () => {
    expect(problemsOfText('# nothing here yet\n')).toEqual([
      { path: '(root)', message: 'the config is empty' },
    ]);
  });

  it('names the file in the error message', () => {
    expect(() => parseConfigText('apps: 1\n', 'my.yaml')).toThrow(
      /^my\.yaml is not valid:\n {2}gitops: required/,
    );
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'shiplane-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads and validates a file', async () => {
    const config = await loadConfig('shiplane.config.yaml');

    expect(config.stages.map((stage) => stage.name)).toEqual(['staging', 'production']);
  });

  it('says when the file cannot be read', async () => {
    const file = join(dir, 'missing.yaml');

    await expect(loadConfig(file)).rejects.toMatchObject({
      name: 'ConfigError',
      problems: [{ path: '(file)', message: expect.stringContaining(`cannot read ${file}`) }],
    });
  });

  it('reports the problems of a file with its name', async () => {
    const file = join(dir, 'bad.yaml');
    await writeFile(file, 'gitops:\n  repository: itdo-erp\n');

    await expect(loadConfig(file)).rejects.toThrow(`${file} is not valid`);
  });
});
