/**
 * `productionRepository` of the sandbox (issue 13): a name that is not owner/name, or that is the
 * GitOps repository itself, is refused before anything starts, naming the option.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidSandboxOptionError, startSandbox } from '../../../local/sandbox/sandbox.js';

describe('the sandbox’s productionRepository', () => {
  it.each([
    [
      'itdo-erp-production',
      /production repository: expected a GitHub repository as owner\/name, got "itdo-erp-production"/,
    ],
    ['itdo-erp/itdo-erp-infrastructure', /is the sandbox's GitOps repository already; name another one/],
  ])('refuses %s before starting anything', async (productionRepository, message) => {
    const workdir = join(await mkdtemp(join(tmpdir(), 'shiplane-sandbox-option-')), 'sandbox');
    try {
      const started = startSandbox({ workdir, port: 0, scenario: false, productionRepository });

      await expect(started).rejects.toThrow(InvalidSandboxOptionError);
      await expect(started).rejects.toThrow(message);
      expect(existsSync(workdir)).toBe(false);
    } finally {
      await rm(join(workdir, '..'), { recursive: true, force: true });
    }
  });
});
