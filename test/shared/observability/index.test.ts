import middy from '@middy/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lambdaContext } from '../../fixtures/slack/context.js';

afterEach(() => {
  vi.unstubAllEnvs();
  vi.resetModules();
});

describe('observability()', () => {
  it('never logs the invocation event, even with POWERTOOLS_LOGGER_LOG_EVENT=true', async () => {
    // The logger reads the variable when it is created, so the module is loaded after setting it.
    vi.stubEnv('POWERTOOLS_LOGGER_LOG_EVENT', 'true');
    vi.resetModules();
    const { logger, observability } = await import('../../../shared/observability/index.js');
    const info = vi.spyOn(logger, 'info');
    const handler = middy(async () => 'done').use(observability());
    const event = { taskToken: 'AQCEAAAAKgAAAAMAAAAA-secret-task-token', body: 'payload=%7B%7D' };

    await handler(event, lambdaContext('test'));

    expect(JSON.stringify(info.mock.calls)).not.toContain('secret-task-token');
  });
});
