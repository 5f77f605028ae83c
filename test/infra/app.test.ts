import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { toConfigInput } from '../../shared/config/runtime.js';
import { configWith, type Json } from './support.js';

const run = promisify(execFile);
const APP = new URL('../../infra/app.ts', import.meta.url).pathname;
const ROOT = new URL('../../', import.meta.url).pathname;

/** Runs the CDK app as the CLI does (`node --import tsx infra/app.ts`) with bundling skipped. */
function synthApp(env: Record<string, string>) {
  const outdir = mkdtempSync(join(tmpdir(), 'shiplane-app-'));
  const result = run(process.execPath, ['--import', 'tsx', APP], {
    cwd: ROOT,
    env: {
      ...process.env,
      CDK_OUTDIR: outdir,
      CDK_CONTEXT_JSON: JSON.stringify({ 'aws:cdk:bundling-stacks': [] }),
      ...env,
    },
  });
  return { outdir, result };
}

// Each test spawns a full CDK app under tsx: seconds alone, much longer on a shared, loaded machine.
const SYNTH_TIMEOUT_MS = 120_000;

describe('the CDK app', { timeout: SYNTH_TIMEOUT_MS }, () => {
  it('synthesizes the config named by SHIPLANE_CONFIG_FILE, with the nag packs and no findings', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiplane-config-'));
    const file = join(dir, 'shiplane.config.yaml');
    const config = configWith((input) => ({
      ...input,
      stages: input.stages.map(({ approval: _approval, ...stage }) => stage),
    }));
    writeFileSync(file, stringify(toConfigInput(config)));
    const { outdir, result } = synthApp({ SHIPLANE_CONFIG_FILE: file });
    const { stderr } = await result;
    expect(stderr).not.toMatch(/AwsSolutions-|Serverless-/);
    const template = JSON.parse(readFileSync(join(outdir, 'Shiplane.template.json'), 'utf8'));
    const machine = Object.values(template.Resources as Record<string, Json>).find(
      (r) => r.Type === 'AWS::StepFunctions::StateMachine',
    );
    expect(JSON.stringify(machine)).toContain('Staging · Commit new tag');
    expect(JSON.stringify(machine)).not.toContain('Await approval');
  });

  it('reports every problem of a bad config and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'shiplane-config-'));
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'gitops:\n  repository: nope\n');
    const { result } = synthApp({ SHIPLANE_CONFIG_FILE: file });
    const failure = await result.then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toContain('gitops.repository');
    expect(failure?.stderr).toContain('stages');
    expect(failure?.stderr).not.toMatch(/at .*\.ts:\d+/);
  });
});
