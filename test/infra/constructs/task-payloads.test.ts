import { FieldUtils, JsonPath } from 'aws-cdk-lib/aws-stepfunctions';
import { describe, expect, it } from 'vitest';
import type { CommitTaskProps } from '../../../infra/constructs/commit-task.js';
import { taskInput } from '../../../infra/constructs/task-payloads.js';
import type { CommitRequest, HealthCheckInput, Notification } from '../../../shared/contracts/tasks.js';

/** The payload as the state machine definition writes it (what LambdaInvoke and SqsSendMessage do). */
// biome-ignore lint/suspicious/noExplicitAny: the rendered payload is free-form JSON the tests index into.
const rendered = (input: ReturnType<typeof taskInput>): any => FieldUtils.renderObject(input.value);

const imageChange = {
  kind: 'image',
  edit: 'promotion',
  stage: 'staging',
  file: 'environments/staging/kustomization.yaml',
  release: JsonPath.objectAt('$.release'),
  pinDigest: true,
  createIfMissing: false,
} as const;

describe('taskInput', () => {
  it('writes JsonPath fields with the .$ suffix and values as they are', () => {
    const input = taskInput<CommitRequest>({
      taskToken: JsonPath.taskToken,
      execution: JsonPath.stringAt('$$.Execution.Name'),
      repository: 'itdo-erp/infra',
      branch: 'main',
      change: { ...imageChange, valuesPath: 'backend.image.tag' },
    });
    expect(rendered(input)).toEqual({
      'taskToken.$': '$$.Task.Token',
      'execution.$': '$$.Execution.Name',
      repository: 'itdo-erp/infra',
      branch: 'main',
      change: {
        ...imageChange,
        release: undefined,
        'release.$': '$.release',
        valuesPath: 'backend.image.tag',
      },
    });
  });

  it('leaves out optional fields given as undefined, at any depth', () => {
    const input = taskInput<CommitRequest>({
      taskToken: JsonPath.taskToken,
      execution: undefined,
      repository: 'itdo-erp/infra',
      branch: 'main',
      change: { ...imageChange, valuesPath: undefined, digestPath: undefined, manualRollback: undefined },
    });
    const payload = rendered(input);
    expect(Object.keys(payload)).toEqual(['taskToken.$', 'repository', 'branch', 'change']);
    expect(Object.keys(payload.change)).toEqual([
      'kind',
      'edit',
      'stage',
      'file',
      'release.$',
      'pinDigest',
      'createIfMissing',
    ]);
  });

  it('keeps a list and a value that is a JsonPath merge', () => {
    const input = taskInput<Notification>({
      event: 'started',
      execution: JsonPath.stringAt('$$.Execution.Name'),
      release: JsonPath.jsonMerge(JsonPath.objectAt('$.release'), JsonPath.objectAt('$.target')),
      detail: ['a', 'b'],
    });
    expect(rendered(input)).toEqual({
      event: 'started',
      'execution.$': '$$.Execution.Name',
      'release.$': 'States.JsonMerge($.release, $.target, false)',
      detail: ['a', 'b'],
    });
  });
});

// What the typing is for: a payload that does not match its contract does not compile (`tsc`
// checks these lines; an error that stops happening fails the `@ts-expect-error`).
function _payloadsThatDoNotCompile() {
  const { createIfMissing: _left, ...withoutCreateIfMissing } = imageChange;
  taskInput<CommitRequest>({
    repository: 'a/b',
    branch: 'main',
    // @ts-expect-error a field the contract requires (createIfMissing) is missing
    change: withoutCreateIfMissing,
  });
  const { edit: _edit, ...withoutEdit } = imageChange;
  // @ts-expect-error the state machine says which edit a commit is (only older runs' messages have none)
  const _commitWithoutEdit: CommitTaskProps['change'] = withoutEdit;
  taskInput<HealthCheckInput>({
    execution: 'run-1',
    stage: 'staging',
    argocdApp: 'erp-staging',
    sync: false,
    commit: JsonPath.stringAt('$.commit'),
    release: JsonPath.objectAt('$.release'),
    file: 'kustomization.yaml',
    pinDigest: true,
    attempt: 1,
    maxAttempts: 3,
    // @ts-expect-error a field the contract does not have (a renamed one)
    argoProject: 'erp',
  });
  taskInput<Notification>({
    // @ts-expect-error an event the contract does not list
    event: 'deploying',
    execution: 'run-1',
    release: JsonPath.objectAt('$.release'),
  });
}
