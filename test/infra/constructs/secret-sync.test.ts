import { describe, expect, it } from 'vitest';
import { syncScheduleMinutes } from '../../../infra/constructs/secret-sync.js';

describe('syncScheduleMinutes', () => {
  it('keeps whole minutes as they are', () => {
    expect(syncScheduleMinutes(900)).toBe(15);
    expect(syncScheduleMinutes(3600)).toBe(60);
  });

  it('rounds an interval EventBridge cannot express up to the next minute, at least one', () => {
    expect(syncScheduleMinutes(90)).toBe(2);
    expect(syncScheduleMinutes(10)).toBe(1);
  });
});
