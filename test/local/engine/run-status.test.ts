import { afterEach, describe, expect, it } from 'vitest';
import { createLocalEngine, engineRunStatus, type LocalEngine } from '../../../local/engine/index.js';
import { cdkTemplate } from './template.js';

const engines: LocalEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.stop()));
});

/** An engine whose runs wait an hour (RUNNING until stopped) or pass straight through. */
function engineWith(definition: object): LocalEngine {
  const engine = createLocalEngine({ template: cdkTemplate(definition), handlers: {} });
  engines.push(engine);
  return engine;
}

const INPUT = { release: { app: 'backend', tag: 'v2.1.6' } };

describe('engineRunStatus', () => {
  it("answers a run's status and input from the engine's own executions", async () => {
    const engine = engineWith({
      StartAt: 'Hold',
      States: { Hold: { Type: 'Wait', Seconds: 3600, End: true } },
    });
    const runs = engineRunStatus(() => engine);
    engine.start(INPUT, 'backend-v2.1.6-aaaaaaaaaaaa');

    expect(await runs.describe('backend-v2.1.6-aaaaaaaaaaaa')).toEqual({ status: 'RUNNING', input: INPUT });

    await engine.stopExecution('backend-v2.1.6-aaaaaaaaaaaa');
    expect(await runs.describe('backend-v2.1.6-aaaaaaaaaaaa')).toEqual({ status: 'ABORTED', input: INPUT });
  });

  it('reports a finished run as such, and no run for an unknown name or an ARN', async () => {
    const engine = engineWith({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } });
    const runs = engineRunStatus(() => engine);
    await engine.start(INPUT, 'backend-v2.1.6-bbbbbbbbbbbb').done;

    expect(await runs.describe('backend-v2.1.6-bbbbbbbbbbbb')).toEqual({ status: 'SUCCEEDED', input: INPUT });
    expect(await runs.describe('backend-v9.9.9-000000000000')).toBeUndefined();
    expect(
      await runs.describe(`${engine.stateMachineArn.replace(':stateMachine:', ':execution:')}:x`),
    ).toBeUndefined();
  });
});
