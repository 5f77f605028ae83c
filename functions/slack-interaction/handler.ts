import { NotBuiltError } from '../../shared/errors.js';

/** Placeholder until its issue lands: a call fails loudly instead of pretending to succeed. */
export const handler = async (): Promise<never> => {
  throw new NotBuiltError('the slack-interaction handler is not built yet');
};
