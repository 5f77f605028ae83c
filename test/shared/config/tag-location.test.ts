import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../../shared/config/load.js';
import {
  configRepositories,
  messageGroupOf,
  secretsTarget,
  stageTagLocations,
  tagLocation,
  UnknownTagLocationError,
} from '../../../shared/config/tag-location.js';
import { problemsOf, type RawConfig, shippedConfig } from './helpers.js';

/** The shipped config with production in its own repository and backend's production tag in a charts repository. */
function twoRepositories(): RawConfig {
  const raw = shippedConfig();
  raw.stages[1].repository = 'itdo-erp/itdo-erp-production';
  raw.stages[1].branch = 'release';
  raw.apps.backend.stages = {
    production: {
      repository: 'itdo-erp/charts',
      branch: 'main',
      file: 'charts/backend/values-production.yaml',
      valuesPath: 'image.tag',
      digestPath: 'image.digest',
    },
  };
  return raw;
}

describe('tagLocation', () => {
  it('answers the gitops repository and the stage file when nothing overrides them', () => {
    const config = parseConfig(shippedConfig());

    expect(tagLocation(config, 'backend', 'staging')).toEqual({
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
      file: 'environments/staging/kustomization.yaml',
      pinDigest: true,
      createIfMissing: false,
    });
  });

  it('takes the stage repository and branch, and an app override over both', () => {
    const config = parseConfig(twoRepositories());

    expect(tagLocation(config, 'frontend', 'production')).toMatchObject({
      repository: 'itdo-erp/itdo-erp-production',
      branch: 'release',
      file: 'environments/production/kustomization.yaml',
    });
    expect(tagLocation(config, 'frontend', 'production')).not.toHaveProperty('valuesPath');
    expect(tagLocation(config, 'backend', 'production')).toEqual({
      repository: 'itdo-erp/charts',
      branch: 'main',
      file: 'charts/backend/values-production.yaml',
      valuesPath: 'image.tag',
      digestPath: 'image.digest',
      pinDigest: true,
      createIfMissing: false,
    });
    expect(tagLocation(config, 'backend', 'staging').repository).toBe('itdo-erp/itdo-erp-infrastructure');
  });

  it('keeps the stage branch when an override names only another file', () => {
    const raw = twoRepositories();
    raw.apps.frontend.stages = {
      production: { file: 'environments/production/frontend/kustomization.yaml' },
    };
    const config = parseConfig(raw);

    expect(tagLocation(config, 'frontend', 'production')).toMatchObject({
      repository: 'itdo-erp/itdo-erp-production',
      branch: 'release',
      file: 'environments/production/frontend/kustomization.yaml',
    });
  });

  it('throws for an app or stage the config does not have', () => {
    const config = parseConfig(shippedConfig());

    expect(() => tagLocation(config, 'backend', 'qa')).toThrow(
      new UnknownTagLocationError('no stage named qa in the config'),
    );
    expect(() => tagLocation(config, 'toString', 'staging')).toThrow('no app named toString in the config');
  });
});

describe('stageTagLocations', () => {
  it('lists one location with every app when no app overrides the stage', () => {
    const config = parseConfig(shippedConfig());

    const found = stageTagLocations(config, 'production');

    expect(found).toHaveLength(1);
    expect(found[0]?.apps).toEqual(['backend', 'frontend']);
  });

  it('lists each distinct location with the apps whose tag lives there', () => {
    const config = parseConfig(twoRepositories());

    const found = stageTagLocations(config, 'production');

    expect(found.map(({ location, apps }) => [messageGroupOf(location), apps])).toEqual([
      ['itdo-erp/itdo-erp-production#release', ['frontend']],
      ['itdo-erp/charts#main', ['backend']],
    ]);
  });
});

describe('configRepositories', () => {
  it('names every repository and branch and what writes it', () => {
    const raw = twoRepositories();
    raw.secrets[0].repository = 'itdo-erp/itdo-erp-production';
    raw.secrets[0].branch = 'release';
    const config = parseConfig(raw);

    expect(configRepositories(config)).toEqual([
      {
        repository: 'itdo-erp/itdo-erp-infrastructure',
        branches: [{ branch: 'main', uses: ['stage staging (backend, frontend)'] }],
      },
      {
        repository: 'itdo-erp/itdo-erp-production',
        branches: [
          {
            branch: 'release',
            uses: ['stage production (frontend)', `secrets ${raw.secrets[0].file}`],
          },
        ],
      },
      { repository: 'itdo-erp/charts', branches: [{ branch: 'main', uses: ['stage production (backend)'] }] },
    ]);
  });

  it('puts a secrets entry without a repository in the gitops one', () => {
    const config = parseConfig(shippedConfig());

    expect(secretsTarget(config, config.secrets[0] ?? {})).toEqual({
      repository: 'itdo-erp/itdo-erp-infrastructure',
      branch: 'main',
    });
  });
});

describe('validation of tag locations', () => {
  it('names an override of a stage the config does not have', () => {
    const raw = shippedConfig();
    raw.apps.backend.stages = { prod: { branch: 'release' } };

    expect(problemsOf(raw)).toEqual([
      {
        path: 'apps.backend.stages.prod',
        message: 'no stage named prod (the stages are staging, production)',
      },
    ]);
  });

  it('refuses a malformed owner/name wherever a repository is given', () => {
    const raw = shippedConfig();
    raw.stages[1].repository = 'itdo-erp';
    raw.apps.backend.stages = { staging: { repository: 'https://github.com/itdo-erp/charts' } };
    raw.secrets[0].repository = 'a/b/c';

    expect(problemsOf(raw)).toEqual(
      expect.arrayContaining([
        { path: 'stages[1].repository', message: 'expected owner/name' },
        { path: 'apps.backend.stages.staging.repository', message: 'expected owner/name' },
        { path: 'secrets[0].repository', message: 'expected owner/name' },
      ]),
    );
  });

  it('refuses valuesPath on a kustomization, and a values file without valuesPath', () => {
    const raw = shippedConfig();
    raw.apps.backend.stages = { staging: { valuesPath: 'image.tag', digestPath: 'image.digest' } };
    raw.apps.frontend.stages = { production: { file: 'charts/frontend/values.yaml' } };

    expect(problemsOf(raw)).toEqual([
      {
        path: 'apps.backend.stages.staging.valuesPath',
        message:
          "valuesPath needs a Helm values file, but backend's file in staging is the kustomization environments/staging/kustomization.yaml; set file to the values file",
      },
      {
        path: 'apps.frontend.stages.production.valuesPath',
        message:
          'charts/frontend/values.yaml is not a kustomization.yaml: a Helm values file needs valuesPath (the key path of the tag, e.g. image.tag)',
      },
    ]);
  });

  it('refuses a Helm override that would drop the digest the stage pins, and a digestPath alone', () => {
    const raw = shippedConfig();
    raw.apps.backend.stages = { production: { file: 'charts/backend/values.yaml', valuesPath: 'image.tag' } };
    raw.apps.frontend.stages = { staging: { digestPath: 'image.digest' } };

    expect(problemsOf(raw).map((problem) => problem.path)).toEqual([
      'apps.backend.stages.production.digestPath',
      'apps.frontend.stages.staging.digestPath',
    ]);
    expect(problemsOf(raw)[0]?.message).toContain('set digestPath (e.g. image.digest)');
  });

  it('refuses an empty override and an unknown key in one', () => {
    const raw = shippedConfig();
    raw.apps.backend.stages = { production: {}, staging: { repo: 'itdo-erp/charts' } };

    expect(problemsOf(raw)).toEqual([
      {
        path: 'apps.backend.stages.production',
        message:
          'set at least one of repository, branch, file, valuesPath, digestPath (or leave the stage out)',
      },
      { path: 'apps.backend.stages.staging.repo', message: 'unknown key' },
      {
        path: 'apps.backend.stages.staging',
        message:
          'set at least one of repository, branch, file, valuesPath, digestPath (or leave the stage out)',
      },
    ]);
  });

  it('refuses one repository spelled two ways (two writers to one branch)', () => {
    const raw = shippedConfig();
    raw.stages[1].repository = 'ITDO-ERP/itdo-erp-infrastructure';

    expect(problemsOf(raw)).toEqual([
      {
        path: 'gitops.repository',
        message:
          'ITDO-ERP/itdo-erp-infrastructure and itdo-erp/itdo-erp-infrastructure name one repository; spell it the same everywhere (each spelling would be its own writer to its branches)',
      },
    ]);
  });
});
