import { describe, expect, it } from 'vitest';
import { imageBuildOf } from '../../../shared/domain/image-build.js';

const CREATED = 'org.opencontainers.image.created';
const REVISION = 'org.opencontainers.image.revision';

describe('imageBuildOf', () => {
  it('reads created (normalised to UTC) and revision', () => {
    expect(imageBuildOf({ [CREATED]: '2026-11-26T14:20:00.5+01:00', [REVISION]: ' 9b1c2d3 ' })).toEqual({
      build: { createdAt: '2026-11-26T13:20:00.500Z', revision: '9b1c2d3' },
      problems: [],
    });
    expect(imageBuildOf({ [CREATED]: '2026-11-26t13:20:00z' }).build).toEqual({
      createdAt: '2026-11-26T13:20:00.000Z',
    });
  });

  it('has nothing, and no problem, without the labels', () => {
    expect(imageBuildOf({ maintainer: 'platform@itdo-erp.com' })).toEqual({ problems: [] });
  });

  it.each([
    ['last Tuesday', 'is not an RFC 3339 time: "last Tuesday"'],
    ['2026-11-26', 'is not an RFC 3339 time: "2026-11-26"'],
    ['2026-11-26T13:20:00', 'is not an RFC 3339 time: "2026-11-26T13:20:00"'],
    ['2026-13-45T13:20:00Z', 'is not an RFC 3339 time: "2026-13-45T13:20:00Z"'],
    ['1970-01-01T00:00:00Z', 'is 1970-01-01T00:00:00Z, a reproducible-build placeholder, not a build time'],
  ])('leaves a created label %j out, saying why, and keeps the revision', (created, problem) => {
    expect(imageBuildOf({ [CREATED]: created, [REVISION]: 'abc' })).toEqual({
      build: { revision: 'abc' },
      problems: [`${CREATED} ${problem}`],
    });
  });

  it('clips a long revision', () => {
    expect(imageBuildOf({ [REVISION]: 'x'.repeat(500) }).build?.revision).toHaveLength(200);
  });
});
