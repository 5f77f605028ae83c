import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stepFunctionsTaskTokens } from '../../../shared/adapters/aws/task-tokens.js';
import { INTERACTION_AWS_CLIENT } from '../../../shared/wiring/slack-interaction.js';

/** An endpoint that takes the request and never answers: AWS having a very bad day. */
let server: Server;
let endpoint: string;

beforeAll(async () => {
  server = createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('the slack-interaction AWS clients', () => {
  it('give up on a hung SendTaskSuccess well inside the function timeout, so the claim can be released', async () => {
    const sfn = new SFNClient({
      ...INTERACTION_AWS_CLIENT,
      endpoint,
      region: 'eu-west-1',
      credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-secret' },
    });

    await expect(
      stepFunctionsTaskTokens(sfn).succeed('token', { decision: 'approved' }),
    ).rejects.toMatchObject({ name: 'TimeoutError' });
  }, 15_000);
});
