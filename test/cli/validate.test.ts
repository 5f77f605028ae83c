import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT, runCli } from './run-cli.js';

/** What validate says about the shipped config's one repository. */
const SHIPPED_REPOSITORIES = [
  'repositories (the GitHub credentials need contents: write on each):',
  '  itdo-erp/itdo-erp-infrastructure main: stage staging (backend, frontend); stage production (backend, frontend); secrets environments/production/external-secrets.yaml',
  '',
].join('\n');

let dir: string;
let shipped: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'shiplane-cli-'));
  shipped = await readFile(join(PROJECT_ROOT, 'shiplane.config.yaml'), 'utf8');
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function configFile(name: string, text: string): Promise<string> {
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}

describe('shiplane validate', () => {
  it('prints ok and exits 0 for the shipped config', async () => {
    const result = await runCli(['validate']);

    expect(result).toEqual({ code: 0, stdout: `ok\n${SHIPPED_REPOSITORIES}`, stderr: '' });
  });

  it('names every repository and branch a config with several writes, and the App installations it needs', async () => {
    const file = await configFile(
      'repositories.yaml',
      shipped
        .replace('github:\n    apiUrl: https://api.github.com\n    token: secret:shiplane/github-token', () =>
          [
            'github:',
            '    app: {appId: 1001, installationId: 2002, privateKey: secret:shiplane/github-app-key}',
          ].join('\n'),
        )
        .replace(
          '    file: environments/production/kustomization.yaml\n',
          '    repository: itdo-erp/itdo-erp-production\n    file: environments/production/kustomization.yaml\n',
        )
        .replace(
          '    image: itdo-erp/backend\n',
          [
            '    image: itdo-erp/backend',
            '    stages:',
            '      production:',
            '        repository: itdo-charts/charts',
            '        file: charts/backend/values-production.yaml',
            '        valuesPath: image.tag',
            '        digestPath: image.digest',
            '',
          ].join('\n'),
        ),
    );

    const result = await runCli(['validate', '--config', file]);

    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')).toEqual([
      'ok',
      'repositories (the GitHub credentials need contents: write on each):',
      '  itdo-erp/itdo-erp-infrastructure main: stage staging (backend, frontend); secrets environments/production/external-secrets.yaml',
      '  itdo-erp/itdo-erp-production main: stage production (frontend)',
      '  itdo-charts/charts main: stage production (backend)',
      'GitHub App 1001: install it on each of itdo-erp, itdo-charts (installation 2002 on itdo-erp); Shiplane looks up the installation on each owner',
      '',
    ]);
  });

  it('warns that a fine-grained token reaches one owner when the repositories have several', async () => {
    const file = await configFile(
      'token-owners.yaml',
      shipped.replace(
        '    file: environments/production/kustomization.yaml\n',
        '    repository: itdo-prod/gitops\n    file: environments/production/kustomization.yaml\n',
      ),
    );

    const result = await runCli(['validate', '--config', file]);

    expect(result.code).toBe(0);
    expect(result.stdout.split('\n')).toEqual([
      'ok',
      'repositories (the GitHub credentials need contents: write on each):',
      '  itdo-erp/itdo-erp-infrastructure main: stage staging (backend, frontend); secrets environments/production/external-secrets.yaml',
      '  itdo-prod/gitops main: stage production (backend, frontend)',
      'warning: the repositories have 2 owners (itdo-erp, itdo-prod); a fine-grained token has one resource owner and reaches only its repositories: use a token that reaches them all (a classic token with repo scope), or a GitHub App installed on each owner',
      '',
    ]);
  });

  it('reads the file --config names', async () => {
    const file = join(dir, 'copy.yaml');
    await copyFile(join(PROJECT_ROOT, 'shiplane.config.yaml'), file);

    const result = await runCli(['validate', '--config', file]);

    expect(result).toEqual({ code: 0, stdout: `ok\n${SHIPPED_REPOSITORIES}`, stderr: '' });
  });

  it('reads shiplane.config.yaml from the current directory by default', async () => {
    const cwd = await mkdtemp(join(dir, 'project-'));
    await writeFile(join(cwd, 'shiplane.config.yaml'), shipped.replace('timeout: 24h', 'timeout: a day'));

    const result = await runCli(['validate'], { cwd });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('stages[1].approval.timeout: expected a duration');
  });

  it('prints every problem with its key path and exits 1', async () => {
    const file = await configFile(
      'broken.yaml',
      shipped
        .replace('timeout: 24h', 'timeout: 1 day')
        .replace('token: secret:shiplane/argocd-token', 'token: eyJhbGciOiJIUzI1NiJ9.argocd')
        .replace('ecrRepository: itdo-erp/frontend', 'ecrRepository: itdo-erp/backend')
        .replace('  branch: main\n', '  branch: main\n  brnch: main\n'),
    );

    const result = await runCli(['validate', '--config', file]);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr.trimEnd().split('\n')).toEqual([
      `${file} is not valid:`,
      '  gitops.brnch: unknown key',
      '  argocd.token: expected a secret reference like secret:NAME or env:VAR (never the secret itself)',
      '  stages[1].approval.timeout: expected a duration like 90s, 15m or 24h, got "1 day"',
      '  apps.frontend.ecrRepository: itdo-erp/backend is already the repository of app backend; apps need distinct ECR repositories',
    ]);
    expect(result.stderr).not.toContain('eyJhbGciOiJIUzI1NiJ9');
  });

  it('refuses a tag pattern RE2 cannot run, naming the key and the reason', async () => {
    const file = await configFile(
      'backreference.yaml',
      // A function: a replacement string would read the pattern's `$'` as a special pattern.
      shipped.replace("tags: '^v\\d+\\.\\d+\\.\\d+$'", () => "tags: '^(v\\d+)-\\1$'"),
    );

    const result = await runCli(['validate', '--config', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      '  apps.backend.tags: not a pattern Shiplane can match in linear time (RE2 syntax: no backreferences or lookarounds): error parsing regexp: invalid escape sequence: `\\1`',
    );
  });

  it('points at the line of a YAML syntax error', async () => {
    const file = await configFile('syntax.yaml', 'gitops:\n  repository: [itdo-erp\n');

    const result = await runCli(['validate', '-c', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/line \d+, column \d+: /);
  });

  it('says when the file cannot be read', async () => {
    const file = join(dir, 'missing.yaml');

    const result = await runCli(['validate', '--config', file]);

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`(file): cannot read ${file}`);
  });
});

describe('shiplane', () => {
  it('lists validate in its help', async () => {
    const result = await runCli(['--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: shiplane /);
    expect(result.stdout).toMatch(/validate \[options\]/);
  });

  it('exits 2 on an unknown command, saying so (a usage error, like every bad argument)', async () => {
    const result = await runCli(['promote-everything']);

    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown command 'promote-everything'");
  });

  it('prints its version from package.json', async () => {
    const { version } = JSON.parse(await readFile(join(PROJECT_ROOT, 'package.json'), 'utf8'));

    const result = await runCli(['--version']);

    expect(result).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
