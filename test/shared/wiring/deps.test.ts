import { describe, expect, it } from 'vitest';
import { depsResolver, onceAsync } from '../../../shared/wiring/deps.js';

describe('depsResolver', () => {
  it('resolves plain adapters and adapter factories alike', async () => {
    // Prepare
    const deps = { name: 'adapters' };
    // Act & Assess
    expect(await depsResolver(deps)()).toBe(deps);
    expect(await depsResolver(() => deps)()).toBe(deps);
    expect(await depsResolver(async () => deps)()).toBe(deps);
  });
});

describe('onceAsync', () => {
  it('builds once and shares the result between invocations', async () => {
    let builds = 0;
    const get = onceAsync(async () => ({ build: ++builds }));

    const [first, second] = await Promise.all([get(), get()]);

    expect(first).toBe(second);
    expect(builds).toBe(1);
  });

  it('forgets a failed build so the next invocation tries again', async () => {
    let builds = 0;
    const get = onceAsync(async () => {
      builds += 1;
      if (builds === 1) throw new Error('Secrets Manager throttled');
      return 'ready';
    });

    await expect(get()).rejects.toThrow('Secrets Manager throttled');
    expect(await get()).toBe('ready');
    expect(builds).toBe(2);
  });
});
