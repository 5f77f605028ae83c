/** The release thread when the scan gate blocks a release: the worst findings, fitted to Slack's limits. */
import { describe, expect, it } from 'vitest';
import { SLACK_LIMITS } from '../../../../shared/adapters/slack/approval-message.js';
import {
  eventReply,
  releaseParentMessage,
} from '../../../../shared/adapters/slack/release-thread-message.js';
import { findingLine, findingLines } from '../../../../shared/adapters/slack/scan-findings-text.js';
import type { ScanFindingView, ScanGateResult } from '../../../../shared/contracts/tasks.js';
import { applyNotification } from '../../../../shared/domain/release-thread.js';
import { notification } from '../../../fixtures/slack/context.js';
import { commitUrl, order, run } from '../../domain/release-thread-fixtures.js';

const xz: ScanFindingView = {
  id: 'CVE-2024-3094',
  severity: 'CRITICAL',
  package: 'xz-utils',
  installedVersion: '5.6.0',
  fixedIn: '5.6.1+really5.4.5-1',
  url: 'https://security-tracker.debian.org/tracker/CVE-2024-3094',
};
const result = (findings: ScanFindingView[], total = findings.length): ScanGateResult => ({
  verdict: 'blocked',
  reason: `${total} critical findings at or above high`,
  findings,
  total,
  ignored: 0,
  checkedAt: '2026-11-26T13:45:00.000Z',
  attempt: 1,
});

describe('the blocked reply', () => {
  it('lists each finding with its id linked, severity, package, version and fix, and what to do next', () => {
    const state = run([notification('started')]);
    const text = eventReply(state, notification('blocked', { detail: result([xz]) }), order, commitUrl);
    const lines = text?.split('\n') ?? [];
    expect(lines.slice(0, 2)).toEqual([
      ':no_entry_sign: `v1.4.2` was not released: the scan gate blocked it (1 critical findings at or above high). Nothing was committed; the run ended `Blocked`.',
      '• <https://security-tracker.debian.org/tracker/CVE-2024-3094|`CVE-2024-3094`> CRITICAL in `xz-utils 5.6.0`, fixed in `5.6.1+really5.4.5-1`',
    ]);
    expect(lines[2]).toMatch(
      /^:point_right: Next: Fix the findings and push a new tag; if a finding does not apply, add its CVE to apps\.backend\.scan\.ignore/,
    );
    expect(text).toContain(':point_right: Next: Fix the findings and push a new tag');
  });

  it('says the timeout when no scan finished, and the parent title says Blocked with no stage started', () => {
    const timedOut = { ...result([]), reason: 'no finished scan within 30m (scan IN_PROGRESS)' };
    const blocked = notification('blocked', { detail: timedOut });
    const state = run([notification('started')]);
    expect(eventReply(state, blocked, order, commitUrl)).toMatch(
      /blocked it \(no finished scan within 30m \(scan IN_PROGRESS\)\)/,
    );
    const after = applyNotification(state, blocked, order, new Date('2026-11-26T13:46:00Z'));
    expect(after.outcome).toBe('blocked');
    const parent = JSON.stringify(releaseParentMessage(after, order, commitUrl).blocks);
    expect(parent).toContain('Blocked by the scan gate: backend v1.4.2');
    expect(parent).not.toContain('committed');
  });

  it('fits Slack: one section of at most 3,000 characters, links never cut, the rest counted', () => {
    const long = (i: number): ScanFindingView => ({
      ...xz,
      id: `CVE-2024-${String(10_000 + i)}`,
      package: `a-package-with-a-very-long-name-${'x'.repeat(200)}`,
      url: `https://nvd.nist.gov/vuln/detail/CVE-2024-${String(10_000 + i)}?${'q'.repeat(400)}`,
    });
    const findings = Array.from({ length: 10 }, (_, i) => long(i));
    const text = eventReply(
      run([notification('started')]),
      notification('blocked', { detail: result(findings, 250) }),
      order,
      commitUrl,
    )!;
    expect(text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    const listed = text.split('\n').filter((line) => line.startsWith('• '));
    expect(listed.length).toBeGreaterThan(0);
    expect(listed.length).toBeLessThan(10);
    for (const line of listed) expect(line).toMatch(/^• <https:\/\/[^>]+\|`CVE-2024-\d+`>/);
    expect(text).toContain(`…and ${250 - listed.length} more`);
  });

  it('findingLines keeps within its budget and counts what it leaves out', () => {
    const lines = findingLines([xz, xz, xz], 3, findingLine(xz).length * 2);
    expect(lines).toEqual([findingLine(xz), '…and 2 more']);
    expect(findingLines([], 0, 100)).toEqual([]);
    expect(findingLine({ id: 'CVE-2024-1', severity: 'HIGH' })).toBe(
      '• `CVE-2024-1` HIGH, no fixed version yet',
    );
  });
});
