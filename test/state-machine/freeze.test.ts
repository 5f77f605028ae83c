/**
 * The freeze gate of the synthesized state machine, run in the local engine: a frozen stage waits
 * (a Wait until the freeze's end) and asks again before its approval (or its commit), and a check that
 * cannot answer fails the run before anything of the stage changes.
 */
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { synthesizeTemplate } from '../../infra/synth.js';
import { type CfnTemplate, loadDefinition } from '../../local/engine/definition.js';
import { createLocalEngine, type LocalEngine } from '../../local/engine/engine.js';
import { loadConfig } from '../../shared/config/load.js';
import type { FreezeStatus } from '../../shared/contracts/freeze.js';
import { type RunInput, runInputSchema } from '../../shared/contracts/tasks.js';
import { approval, type Recorded, type Script, scriptedHandlers } from './scripted-handlers.js';

const input = runInputSchema.parse(
  JSON.parse(readFileSync(new URL('./fixtures/run-input.json', import.meta.url), 'utf8')),
) as RunInput;

const window = {
  kind: 'fixed',
  from: '2026-12-04T09:00:00Z',
  to: '2026-12-06T21:00:00Z',
  reason: 'release freeze',
} as const;

let template: CfnTemplate;
let definition: Record<string, Record<string, unknown>>;
beforeAll(async () => {
  const config = await loadConfig('shiplane.config.yaml');
  template = synthesizeTemplate({
    ...config,
    stages: config.stages.map((stage) => ({ ...stage, freeze: [window] })),
  }) as CfnTemplate;
  definition = loadDefinition(template).definition.States as unknown as typeof definition;
});

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

function run(script: Script): { engine: LocalEngine; recorded: Recorded } {
  let engine: LocalEngine | undefined;
  const { handlers, recorded } = scriptedHandlers(script, () => engine as LocalEngine);
  engine = createLocalEngine({ template, handlers, timing: { waitSeconds: 0, retryIntervalMs: 0 } });
  engines.push(engine);
  return { engine, recorded };
}

const entered = (engine: LocalEngine, name: string) =>
  engine
    .history(name)
    .flatMap((event) => (event.stateEnteredEventDetails?.name ? [event.stateEnteredEventDetails.name] : []));

/** Frozen until a moment just ahead (the engine's Wait waits for real until a timestamp). */
const frozenFor = (ms: number): FreezeStatus => ({
  status: 'frozen',
  until: new Date(Date.now() + ms).toISOString(),
  reason: 'release freeze',
  timeZone: 'Asia/Tokyo',
  notice: 'production frozen until Mon 06:00 JST: release freeze',
  checkedAt: new Date().toISOString(),
});
const open = (): FreezeStatus => ({ status: 'open', checkedAt: new Date().toISOString() });

describe('the freeze gate', () => {
  it('is a Wait until the freeze end (TimestampPath) between the check and the stage, for every stage with windows', () => {
    expect(definition['Production · Wait for freeze to end']).toEqual({
      Type: 'Wait',
      TimestampPath: '$.stages.production.freeze.until',
      Next: 'Production · Check freeze',
    });
    expect(definition['Production · Frozen?']).toMatchObject({
      Choices: [
        {
          Variable: '$.stages.production.freeze.status',
          StringEquals: 'open',
          Next: 'Production · Await approval',
        },
      ],
      Default: 'Production · Notify frozen',
    });
    // Frozen, the thread hears it (the answer is the notification's detail), and the Wait follows whatever Slack says.
    expect(definition['Production · Notify frozen']).toMatchObject({
      Type: 'Task',
      Next: 'Production · Wait for freeze to end',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Production · Wait for freeze to end' }],
    });
    // Staging has no approval: its gate opens onto its commit.
    expect(definition['Staging · Frozen?']).toMatchObject({
      Choices: [{ Next: 'Staging · Commit new tag' }],
    });
    expect(definition['Production · Check freeze']).toMatchObject({
      Type: 'Task',
      ResultPath: '$.stages.production.freeze',
      Catch: [{ ErrorEquals: ['States.ALL'], Next: 'Notify failed' }],
    });
    // A manual rollback is not held by a freeze.
    expect(definition['Production · Await manual rollback approval']).toBeDefined();
    expect(
      Object.entries(definition)
        .filter(([, state]) => state.Next === 'Production · Await manual rollback approval')
        .map(([name]) => name),
    ).not.toContain('Production · Frozen?');
  });

  it('waits while production is frozen, checks again, then asks for approval and deploys', async () => {
    const { engine, recorded } = run({
      freeze: (check, seen) => (check.stage === 'production' && seen === 1 ? frozenFor(300) : open()),
    });

    const execution = engine.start(input, 'backend-v2.1.6-4c1f5e2b8a9d');
    const request = await recorded.approvals.next();
    // The approval is asked only after the freeze ended.
    const secondCheck = recorded.freezeChecks.filter((c) => c.stage === 'production')[1];
    expect(secondCheck).toBeDefined();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));
    const result = await execution.done;

    expect(result.status).toBe('SUCCEEDED');
    const states = entered(engine, execution.name);
    expect(
      states.slice(
        states.indexOf('Production · Check freeze'),
        states.indexOf('Production · Await approval') + 1,
      ),
    ).toEqual([
      'Production · Check freeze',
      'Production · Frozen?',
      'Production · Notify frozen',
      'Production · Wait for freeze to end',
      'Production · Check freeze',
      'Production · Frozen?',
      'Production · Await approval',
    ]);
    expect(recorded.notifications.filter((n) => n.event === 'frozen')).toEqual([
      expect.objectContaining({ stage: 'production', detail: expect.objectContaining({ status: 'frozen' }) }),
    ]);
    expect(states.indexOf('Staging · Check freeze')).toBeLessThan(states.indexOf('Staging · Commit new tag'));
    expect(recorded.freezeChecks.map((c) => [c.stage, c.execution])).toEqual([
      ['staging', execution.name],
      ['production', execution.name],
      ['production', execution.name],
    ]);
  });

  it('waits again when a new window opened while it waited', async () => {
    const { engine, recorded } = run({
      freeze: (check, seen) => (check.stage === 'production' && seen <= 2 ? frozenFor(150) : open()),
    });

    const execution = engine.start(input, 'backend-v2.1.6-4c1f5e2b8a9d');
    const request = await recorded.approvals.next();
    await engine.sendTaskSuccess(request.taskToken, approval('U0PLATFORM1'));

    expect((await execution.done).status).toBe('SUCCEEDED');
    expect(
      entered(engine, execution.name).filter((s) => s === 'Production · Wait for freeze to end'),
    ).toHaveLength(2);
  });

  it('fails the run, alerted, when the check cannot answer, before staging is committed', async () => {
    const { engine, recorded } = run({
      freeze: () => {
        throw new Error('no stage staging in this function config');
      },
    });

    const execution = engine.start(input, 'backend-v2.1.6-4c1f5e2b8a9d');
    const result = await execution.done;

    expect(result.status).toBe('FAILED');
    expect(recorded.commits).toEqual([]);
    expect(recorded.notifications.map((n) => n.event)).toEqual(['started', 'failed']);
  });
});
