import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { defaultTagRefusal } from '../../../shared/domain/default-tags.js';

describe('defaultTagRefusal (no apps.<name>.tags)', () => {
  it.each(['v1.4', '1.4.2', 'v1.4.2', 'v2.1.7-rc.1', '1.0.0-beta', '2025.11.16', 'v10.20.30.40'])(
    'releases the version tag %s',
    (tag) => {
      expect(defaultTagRefusal(tag)).toBeUndefined();
    },
  );

  it.each([
    ['latest', /moving tag/],
    ['LATEST', /moving tag/],
    [`sha256-${'a'.repeat(64)}.sig`, /signature, attestation or SBOM/],
    [`sha256-${'b'.repeat(64)}.att`, /signature, attestation or SBOM/],
    [`sha256-${'c'.repeat(64)}.sbom`, /signature, attestation or SBOM/],
    ['v1.4.2-rc.1.sig', /signature, attestation or SBOM/],
    ['buildcache', /build-cache/],
    ['cache', /build-cache/],
    ['main-cache', /build-cache/],
    ['build-cache', /build-cache/],
    ['v1.4.2-cache', /build-cache/],
    ['1.4.2-buildcache', /build-cache/],
    ['cache-deps', /build-cache/],
    ['v1', /does not look like a version/],
    ['42', /does not look like a version/],
    ['main', /does not look like a version/],
    ['sha-7f5b264', /does not look like a version/],
    ['v1.4.2_rc1', /does not look like a version/],
    ['1.4.', /does not look like a version/],
  ])('refuses %s', (tag, why) => {
    expect(defaultTagRefusal(tag)).toMatch(why);
  });

  it('never releases a signature, attestation, SBOM or cache tag, whatever comes before it', () => {
    const ecrTag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}$/);
    const junk = fc.constantFrom('.sig', '.att', '.sbom', '-cache', '.cache', '_cache', '-buildcache');
    fc.assert(
      fc.property(ecrTag, junk, (tag, suffix) => {
        expect(defaultTagRefusal(`${tag}${suffix}`)).toBeDefined();
      }),
    );
  });

  it('answers a 128-character near miss at once (no backtracking blow-up)', () => {
    const started = performance.now();
    expect(defaultTagRefusal(`v${'1.'.repeat(63)}x`)).toMatch(/version/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
