/**
 * The several-repositories fixture (issue 13): the shipped config with production in its own
 * repository and backend's production tag in a charts repository's Helm values, and the three GitHub
 * stand-ins that serve them behind one API address.
 */
import { readFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';
import {
  type GitHubFront,
  type GitHubServer,
  startGitHubFront,
  startGitHubServer,
} from '../../../../local/stand-ins/github/index.js';
import { parseConfigText } from '../../../../shared/config/load.js';
import type { Config } from '../../../../shared/config/schema.js';
import { PRODUCTION, startItdoGitHub, TOKEN } from './support.js';

export const INFRA = 'itdo-erp/itdo-erp-infrastructure';
export const PROD_REPO = 'itdo-erp/itdo-erp-production';
export const CHARTS = 'itdo-erp/itdo-erp-charts';
export const BACKEND_VALUES = 'charts/backend/values-production.yaml';
export const FRONTEND_VALUES = 'charts/frontend/values-production.yaml';

export const backendValues = `# Backend in production (Helm values; Shiplane writes image.tag and image.digest).
replicaCount: 4
image:
  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/backend
  tag: v2.1.4 # promoted by Shiplane
  digest: sha256:${'1'.repeat(64)}
  pullPolicy: IfNotPresent
resources:
  limits: { cpu: "2", memory: 2Gi }
`;
export const frontendValues = `image:
  repository: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/itdo-erp/frontend
  tag: v1.8.1
`;
export const productionKustomization = readFileSync(
  new URL(`../../../fixtures/gitops/itdo-erp-infrastructure/${PRODUCTION}`, import.meta.url),
  'utf8',
);

/** The shipped config with production in its own repository and backend's production tag in charts. */
export function severalRepositoriesConfig(): Config {
  const raw = parse(readFileSync(new URL('../../../../shiplane.config.yaml', import.meta.url), 'utf8'));
  raw.stages[1].repository = PROD_REPO;
  raw.apps.backend.stages = {
    production: {
      repository: CHARTS,
      file: BACKEND_VALUES,
      valuesPath: 'image.tag',
      digestPath: 'image.digest',
    },
  };
  return parseConfigText(stringify(raw));
}

export interface SeveralRepositories {
  readonly infra: GitHubServer;
  readonly production: GitHubServer;
  readonly charts: GitHubServer;
  readonly front: GitHubFront;
  close(): Promise<void>;
}

/** The three repositories, seeded, and one API address in front of them. */
export async function startSeveralRepositories(): Promise<SeveralRepositories> {
  const start = (repo: string, seed: Record<string, string>) =>
    startGitHubServer({ owner: 'itdo-erp', repo, token: TOKEN, seed });
  const infra = await startItdoGitHub();
  const production = await start('itdo-erp-production', {
    [PRODUCTION]: productionKustomization,
    'README.md': '# Production\n',
  });
  const charts = await start('itdo-erp-charts', {
    [BACKEND_VALUES]: backendValues,
    [FRONTEND_VALUES]: frontendValues,
  });
  const front = await startGitHubFront([infra, production, charts]);
  return {
    infra,
    production,
    charts,
    front,
    async close() {
      await front.close();
      await Promise.all([infra.close(), production.close(), charts.close()]);
    },
  };
}
