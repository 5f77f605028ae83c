/**
 * slack-interaction: the public endpoint Slack posts button clicks to (API Gateway HTTP API, payload
 * format 2.0). Verifies Slack's signature over the raw body first; then authorizes, decides exactly
 * once and updates the approval message. Slack waits 3 seconds: the approver groups are looked up
 * while the function starts, the Slack client makes no retries and gives up after 1.2 s (settings in
 * shared/wiring/slack-interaction.ts), and the answer is an empty 200.
 */
import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { parseInput } from '../../shared/contracts/parse.js';
import * as z from '../../shared/contracts/zod.js';
import { handleInteraction, type InteractionDeps } from '../../shared/steps/approval/interaction.js';
import { type DepsSource, depsResolver } from '../../shared/wiring/deps.js';
import { lambdaHandler } from '../../shared/wiring/lambda.js';
import { deployedSlackInteraction } from '../../shared/wiring/slack-interaction.js';

/** The parts of an HTTP API v2 event the endpoint reads. */
const httpEventSchema = z.object({
  headers: z._default(z.record(z.string(), z.string()), {}),
  body: z.optional(z.string()),
  isBase64Encoded: z._default(z.boolean(), false),
});

/** Builds the handler around its dependencies (shared/wiring/slack-interaction.ts builds them). */
export function createSlackInteractionHandler(deps: DepsSource<InteractionDeps>) {
  const resolve = depsResolver(deps);
  return lambdaHandler(async (event: unknown): Promise<APIGatewayProxyStructuredResultV2> => {
    const http = parseInput(httpEventSchema, event, 'HTTP API event');
    // HTTP API lower-cases header names already; a proxy in between might not.
    const headers = Object.fromEntries(Object.entries(http.headers).map(([k, v]) => [k.toLowerCase(), v]));
    return handleInteraction(
      { headers, body: http.body, isBase64Encoded: http.isBase64Encoded },
      await resolve(),
    );
  });
}

/** The deployed handler: table from APPROVALS_TABLE, Slack secrets from SHIPLANE_CONFIG. */
export const handler = createSlackInteractionHandler(deployedSlackInteraction());
