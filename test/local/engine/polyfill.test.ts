import { describe, expect, it } from 'vitest';
import '../../../local/engine/polyfill.js';

describe('Promise.withResolvers', () => {
  it('exists after the engine loads, on Node 20 too, and settles its promise', async () => {
    // Act
    const resolved = Promise.withResolvers<string>();
    const rejected = Promise.withResolvers<string>();
    resolved.resolve('approved');
    rejected.reject(new Error('rejected'));

    // Assess
    await expect(resolved.promise).resolves.toBe('approved');
    await expect(rejected.promise).rejects.toThrow('rejected');
  });
});
