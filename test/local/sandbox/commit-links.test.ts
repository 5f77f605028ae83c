/**
 * The sandbox console's stage commit links with several repositories (issue 13): per app and stage,
 * the web URL prefix of the repository config/tag-location.ts puts that commit in, so the console
 * opens a commit made elsewhere there, not in its commit view of the repository the sandbox serves.
 */
import { describe, expect, it } from 'vitest';
import { stageCommitUrlPrefixes } from '../../../local/sandbox/commit-links.js';
import { loadConfig } from '../../../shared/config/load.js';
import { severalRepositoriesConfig } from '../../shared/steps/commit/several-repositories.js';

describe('stageCommitUrlPrefixes', () => {
  it('gives each app’s stage the repository its commits go to', () => {
    expect(stageCommitUrlPrefixes(severalRepositoriesConfig())).toEqual({
      backend: {
        staging: 'https://github.com/itdo-erp/itdo-erp-infrastructure/commit/',
        production: 'https://github.com/itdo-erp/itdo-erp-charts/commit/',
      },
      frontend: {
        staging: 'https://github.com/itdo-erp/itdo-erp-infrastructure/commit/',
        production: 'https://github.com/itdo-erp/itdo-erp-production/commit/',
      },
    });
  });

  it('gives every stage the GitOps repository when the config has one place', async () => {
    const prefixes = stageCommitUrlPrefixes(await loadConfig('shiplane.config.yaml'));
    const all = Object.values(prefixes).flatMap((byStage) => Object.values(byStage));
    expect(all).toHaveLength(4);
    expect(new Set(all)).toEqual(new Set(['https://github.com/itdo-erp/itdo-erp-infrastructure/commit/']));
  });
});
