/**
 * The synthesized state machine when a stage's tags live in several places (config/tag-location.ts):
 * a `· Pick repository` Choice on the run's app in front of one commit task per place, each sending
 * to its own repository#branch message group, with the same Catch and Next as the one task it
 * replaces. The shipped config (one place per stage) synthesizes exactly as before: no Choice.
 */
import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { synthesizeTemplate } from '../../../infra/synth.js';
import type { ConfigInput } from '../../../shared/config/schema.js';
import {
  type AslDefinition,
  type AslState,
  configWith,
  definitionOf,
  exampleConfig,
  reachableStates,
} from '../support.js';

type AslValidator = (definition: unknown) => { isValid: boolean; errorsText: (separator?: string) => string };
// asl-validator ships CommonJS without type declarations.
const aslValidator = createRequire(import.meta.url)('asl-validator') as AslValidator;

const INFRA = 'itdo-erp/itdo-erp-infrastructure';
const PROD_REPO = 'itdo-erp/itdo-erp-production';
const CHARTS = 'itdo-erp/itdo-erp-charts';
const VALUES = 'charts/backend/values-production.yaml';

/** Production in its own repository; backend's production tag in a charts repository's Helm values. */
const severalRepositories = (input: ConfigInput): ConfigInput => ({
  ...input,
  stages: input.stages.map((stage) =>
    stage.name === 'production' ? { ...stage, repository: PROD_REPO } : stage,
  ),
  apps: {
    ...input.apps,
    backend: {
      ...input.apps.backend!,
      stages: {
        production: { repository: CHARTS, file: VALUES, valuesPath: 'image.tag', digestPath: 'image.digest' },
      },
    },
  },
});

const sqsTasks = (definition: AslDefinition) =>
  Object.entries(definition.States).filter(([, state]) => state.Resource?.includes(':sqs:sendMessage'));
const pickStates = (definition: AslDefinition) =>
  Object.keys(definition.States).filter((name) => name.endsWith('· Pick repository'));
const body = (state: AslState | undefined) => state?.Parameters?.MessageBody;
const transitionsInto = (definition: AslDefinition, target: string) =>
  Object.entries(definition.States)
    .filter(([, state]) =>
      [
        state.Next,
        state.Default,
        ...(state.Choices ?? []).map((c) => c.Next),
        ...(state.Catch ?? []).map((c) => c.Next),
      ].includes(target),
    )
    .map(([name]) => name);

let definition: AslDefinition;
let shipped: AslDefinition;
beforeAll(() => {
  definition = definitionOf(synthesizeTemplate(configWith(severalRepositories)));
  shipped = definitionOf(synthesizeTemplate(exampleConfig));
}, 120_000);

describe('a stage whose tags live in several repositories', () => {
  it('picks the commit task by the run’s app, each in its repository#branch message group', () => {
    expect(pickStates(definition).sort()).toEqual(
      [
        'Production · Commit new tag · Pick repository',
        'Production · Commit rollback · Pick repository',
        'Production · Commit manual rollback · Pick repository',
      ].sort(),
    );
    expect(definition.States['Production · Commit new tag · Pick repository']).toEqual({
      Type: 'Choice',
      Choices: [
        { Variable: '$.release.app', StringEquals: 'backend', Next: 'Production · Commit new tag (backend)' },
      ],
      Default: 'Production · Commit new tag',
    });

    const own = definition.States['Production · Commit new tag'];
    const charts = definition.States['Production · Commit new tag (backend)'];
    expect(own?.Parameters?.MessageGroupId).toBe(`${PROD_REPO}#main`);
    expect(body(own)).toMatchObject({
      repository: PROD_REPO,
      branch: 'main',
      change: { stage: 'production', file: 'environments/production/kustomization.yaml' },
    });
    expect(body(own).change).not.toHaveProperty('valuesPath');
    expect(charts?.Parameters?.MessageGroupId).toBe(`${CHARTS}#main`);
    expect(body(charts)).toMatchObject({
      repository: CHARTS,
      branch: 'main',
      change: { stage: 'production', file: VALUES, valuesPath: 'image.tag', digestPath: 'image.digest' },
    });
    // The task a place adds is the stage's task with another target: same Next, Catch, Retry, timeout.
    const { Parameters: _own, ...ownRest } = own!;
    const { Parameters: _charts, ...chartsRest } = charts!;
    expect(chartsRest).toEqual(ownRest);
    // Only the Choice enters either task; the approval's paths go to the Choice.
    expect(transitionsInto(definition, 'Production · Commit new tag (backend)')).toEqual([
      'Production · Commit new tag · Pick repository',
    ]);
    expect(transitionsInto(definition, 'Production · Commit new tag')).toEqual([
      'Production · Commit new tag · Pick repository',
    ]);
    expect(definition.States['Production · Notify approved']?.Next).toBe(
      'Production · Commit new tag · Pick repository',
    );
  });

  it('sends every commit message in the group of the repository and branch it names', () => {
    const tasks = sqsTasks(definition);
    const groups = new Set<string>();
    for (const [, state] of tasks) {
      const { repository, branch } = body(state);
      expect(state.Parameters?.MessageGroupId).toBe(`${repository}#${branch}`);
      groups.add(state.Parameters?.MessageGroupId);
    }
    expect([...groups].sort()).toEqual([`${CHARTS}#main`, `${INFRA}#main`, `${PROD_REPO}#main`]);
    // Staging has one place: its tasks all write the infrastructure repository, with no Choice.
    const staging = tasks.filter(([name]) => name.startsWith('Staging'));
    expect(staging.length).toBeGreaterThan(0);
    for (const [, state] of staging) expect(state.Parameters?.MessageGroupId).toBe(`${INFRA}#main`);
  });

  it('leaves the Argo CD check of a several-place stage to ask the resolver per app', () => {
    const payload = (name: string) => definition.States[name]?.Parameters?.Payload;
    expect(payload('Production · Wait for Argo CD')).not.toHaveProperty('file');
    expect(payload('Staging · Wait for Argo CD')).toMatchObject({
      file: 'environments/staging/kustomization.yaml',
    });
  });

  it('is a valid definition whose every state is reachable', () => {
    const result = aslValidator(definition);
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
    expect(reachableStates(definition)).toEqual(new Set(Object.keys(definition.States)));
  });
});

describe('the shipped config (every stage in one place)', () => {
  it('has no Choice on the app and commits each stage in the infrastructure repository', () => {
    expect(pickStates(shipped)).toEqual([]);
    for (const [, state] of sqsTasks(shipped)) {
      expect(state.Parameters?.MessageGroupId).toBe(`${INFRA}#main`);
      expect(body(state)).toMatchObject({ repository: INFRA, branch: 'main' });
    }
    expect(shipped.States['Production · Wait for Argo CD']?.Parameters?.Payload).toMatchObject({
      file: 'environments/production/kustomization.yaml',
    });
  });

  it('synthesizes the same definition when the overrides name the places it already uses', () => {
    const spelledOut = configWith((input) => ({
      ...input,
      stages: input.stages.map((stage) => ({ ...stage, repository: INFRA, branch: 'main' })),
      apps: {
        ...input.apps,
        backend: {
          ...input.apps.backend!,
          stages: { production: { repository: INFRA, file: 'environments/production/kustomization.yaml' } },
        },
      },
    }));
    expect(definitionOf(synthesizeTemplate(spelledOut))).toEqual(shipped);
  });
});
