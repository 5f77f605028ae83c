/**
 * The layering rules of `.dependency-cruiser.cjs` (run on the repository by `npm run deps`) catch
 * what they are for: cruised over test/fixtures/layering, a tree that breaks each rule once, every
 * rule reports exactly its own violation and the allowed imports in the tree pass.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('fixtures/layering', import.meta.url));

interface Violation {
  readonly rule: { readonly name: string; readonly severity: string };
  readonly from: string;
  readonly to: string;
}

/** Cruises the fixture with the repository's rules; `outputType` as `npm run deps` would print it. */
function cruiseFixture(outputType: 'json' | 'err') {
  return spawnSync(
    `${ROOT}node_modules/.bin/depcruise`,
    [
      ...['shared', 'functions', 'local', 'cli', 'infra', 'test'],
      ...['--config', `${ROOT}.dependency-cruiser.cjs`, '--output-type', outputType],
    ],
    // Plain text whatever the terminal: under CI=1 the reporter colours its lines otherwise.
    { cwd: FIXTURE, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' } },
  );
}

describe('the dependency rules', () => {
  const json = JSON.parse(cruiseFixture('json').stdout) as { summary: { violations: Violation[] } };
  const violations = json.summary.violations;
  const found = violations.map((v) => `${v.rule.name}: ${v.from} → ${v.to}`).sort();

  it('fail the check when something breaks them, naming the rule and the import', () => {
    const check = cruiseFixture('err');
    expect(check.status).not.toBe(0);
    expect(check.stdout).toContain(
      'error steps-imports-downward: shared/steps/notify.ts → shared/adapters/slack.ts',
    );
    expect(check.stdout).toMatch(/15 dependency violations \(15 errors, 0 warnings\)/);
    expect(violations.every((v) => v.rule.severity === 'error')).toBe(true);
  });

  it('report each broken rule with the import that breaks it, and nothing else', () => {
    expect(found).toEqual(
      [
        'no-cycles: shared/domain/cycle-a.ts → shared/domain/cycle-b.ts',
        'steps-imports-downward: shared/steps/notify.ts → shared/adapters/slack.ts',
        'adapters-imports-downward: shared/adapters/github.ts → shared/wiring/aws.ts',
        'observability-imports-downward: shared/observability/log.ts → shared/adapters/github.ts',
        'ports-imports-downward: shared/ports/chat.ts → shared/adapters/github.ts',
        'domain-imports-downward: shared/domain/rule.ts → shared/ports/chat.ts',
        'contracts-imports-downward: shared/contracts/tasks.ts → shared/domain/rule.ts',
        'config-imports-downward: shared/config/schema.ts → shared/contracts/tasks.ts',
        'errors-import-nothing: shared/errors.ts → shared/config/schema.ts',
        'shared-stays-inside: shared/wiring/aws.ts → local/runtime.ts',
        'only-programs-use-wiring: infra/stack.ts → shared/wiring/aws.ts',
        'only-programs-use-wiring: shared/adapters/github.ts → shared/wiring/aws.ts',
        'functions-use-wiring-steps-contracts: functions/notify/handler.ts → shared/adapters/slack.ts',
        'local-never-imports-cli: local/runtime.ts → cli/io.ts',
        'tests-and-benchmarks-stay-apart: cli/io.ts → test/helper.ts',
      ].sort(),
    );
  });

  it('let through what the layering allows: a handler using the wiring and a step, a step using a port', () => {
    const allowed = [
      'functions/notify/handler.ts → shared/steps/notify.ts',
      'functions/notify/handler.ts → shared/wiring/aws.ts',
      'shared/steps/notify.ts → shared/ports/chat.ts',
      'shared/steps/notify.ts → shared/domain/rule.ts',
      'shared/adapters/slack.ts → shared/ports/chat.ts',
    ];
    for (const edge of allowed) expect(found.some((f) => f.endsWith(edge))).toBe(false);
  });
});
