import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  blockingFindings,
  FINDING_SEVERITIES,
  MAX_LISTED_FINDINGS,
  type ScanFinding,
  type ScanReport,
  scanTimedOut,
  scanVerdict,
  severityRank,
  worstFindings,
} from '../../../shared/domain/scan-verdict.js';

const finding = (id: string, severity: string, extra: Partial<ScanFinding> = {}): ScanFinding => ({
  id,
  severity,
  package: 'openssl',
  ...extra,
});
const complete = (...findings: ScanFinding[]): ScanReport => ({
  status: 'complete',
  scanner: 'basic',
  findings,
});

describe('severityRank', () => {
  it('ranks ECR severities worst first, the unrated ones below LOW', () => {
    const ranks = FINDING_SEVERITIES.map(severityRank);
    expect(ranks).toEqual([...ranks].sort((a, b) => b - a));
    expect(new Set(ranks).size).toBe(ranks.length);
    expect(severityRank('UNTRIAGED')).toBeLessThan(severityRank('LOW'));
    expect(severityRank('SOMETHING-NEW')).toBe(severityRank('UNDEFINED'));
    expect(severityRank('high')).toBe(severityRank('HIGH'));
  });
});

describe('scanVerdict', () => {
  const gate = { maxSeverity: 'HIGH' as const, ignore: [] as string[] };

  it('passes an image with nothing at or above the gate', () => {
    const verdict = scanVerdict(
      complete(finding('CVE-2024-1000', 'MEDIUM'), finding('CVE-2024-1001', 'UNTRIAGED')),
      gate,
    );
    expect(verdict).toEqual({ verdict: 'pass', ignored: 0, reason: 'no high or worse findings (2 in all)' });
  });

  it('blocks on a finding at the gate or above, worst first', () => {
    const verdict = scanVerdict(
      complete(
        finding('CVE-2024-0001', 'HIGH'),
        finding('CVE-2024-0002', 'CRITICAL', { fixedIn: '3.0.14' }),
        finding('CVE-2024-0003', 'LOW'),
        finding('CVE-2024-0004', 'HIGH', { fixedIn: '1.2' }),
      ),
      gate,
    );
    expect(verdict).toEqual({
      verdict: 'blocked',
      reason: '1 critical, 2 high findings at or above high',
      total: 3,
      findings: [
        finding('CVE-2024-0002', 'CRITICAL', { fixedIn: '3.0.14' }),
        finding('CVE-2024-0004', 'HIGH', { fixedIn: '1.2' }),
        finding('CVE-2024-0001', 'HIGH'),
      ],
    });
  });

  it('lets an ignored CVE through and says how many were ignored', () => {
    const verdict = scanVerdict(
      complete(finding('CVE-2024-3094', 'CRITICAL'), finding('CVE-2024-1', 'LOW')),
      {
        maxSeverity: 'HIGH',
        ignore: ['CVE-2024-3094'],
      },
    );
    expect(verdict).toMatchObject({ verdict: 'pass', ignored: 1 });
  });

  it('caps the listed findings but counts them all', () => {
    const many = Array.from({ length: 40 }, (_, i) => finding(`CVE-2024-${String(1000 + i)}`, 'CRITICAL'));
    const verdict = scanVerdict(complete(...many), gate);
    expect(verdict).toMatchObject({
      verdict: 'blocked',
      total: 40,
      reason: '40 critical findings at or above high',
    });
    expect(verdict.verdict === 'blocked' && verdict.findings).toHaveLength(MAX_LISTED_FINDINGS);
  });

  it('waits while the scan is not finished', () => {
    expect(scanVerdict({ status: 'pending', reason: 'scan IN_PROGRESS' }, gate)).toEqual({
      verdict: 'pending',
      reason: 'scan IN_PROGRESS',
    });
  });

  it('fails closed when there will be no findings (scan FAILED, unsupported image)', () => {
    expect(
      scanVerdict({ status: 'unavailable', reason: 'scan FAILED: UnsupportedImageError' }, gate),
    ).toEqual({
      verdict: 'blocked',
      reason: 'no scan findings to judge: scan FAILED: UnsupportedImageError',
      findings: [],
      total: 0,
    });
  });

  it('blocks with the reason when no scan finished within the timeout', () => {
    expect(scanTimedOut('30m', 'no scan of the image yet')).toEqual({
      verdict: 'blocked',
      reason: 'no finished scan within 30m (no scan of the image yet)',
      findings: [],
      total: 0,
    });
  });

  it('LOW blocks on LOW but never on INFORMATIONAL, UNTRIAGED or UNDEFINED', () => {
    const low = { maxSeverity: 'LOW' as const, ignore: [] };
    expect(scanVerdict(complete(finding('CVE-2024-1', 'LOW')), low).verdict).toBe('blocked');
    for (const severity of ['INFORMATIONAL', 'UNTRIAGED', 'UNDEFINED']) {
      expect(scanVerdict(complete(finding('CVE-2024-1', severity)), low).verdict).toBe('pass');
    }
  });
});

describe('scan verdict properties', () => {
  const severity = fc.constantFrom(...FINDING_SEVERITIES);
  const id = fc.integer({ min: 1000, max: 1030 }).map((n) => `CVE-2024-${n}`);
  const arbFinding = fc.record(
    {
      id,
      severity,
      package: fc.constantFrom('openssl', 'glibc', 'zlib'),
      fixedIn: fc.constantFrom('1.0', '2.0'),
    },
    { requiredKeys: ['id', 'severity'] },
  );
  const report = fc.array(arbFinding, { maxLength: 30 }).map((findings) => complete(...findings));
  const maxSeverity = fc.constantFrom('CRITICAL', 'HIGH', 'MEDIUM', 'LOW' as const);
  const strictness = { pass: 0, blocked: 1 } as const;

  it('ignoring more findings never makes a verdict stricter', () => {
    fc.assert(
      fc.property(report, maxSeverity, fc.array(id), fc.array(id), (r, max, ignore, more) => {
        const before = scanVerdict(r, { maxSeverity: max, ignore });
        const after = scanVerdict(r, { maxSeverity: max, ignore: [...ignore, ...more] });
        if (before.verdict === 'pending' || after.verdict === 'pending') return false;
        expect(strictness[after.verdict]).toBeLessThanOrEqual(strictness[before.verdict]);
        const total = (v: typeof before) => (v.verdict === 'blocked' ? v.total : 0);
        expect(total(after)).toBeLessThanOrEqual(total(before));
        return true;
      }),
    );
  });

  it('a stricter gate (lower maxSeverity) never passes what a laxer one blocks', () => {
    const order = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW'] as const;
    fc.assert(
      fc.property(
        report,
        fc.integer({ min: 0, max: 3 }),
        fc.integer({ min: 0, max: 3 }),
        fc.array(id),
        (r, a, b, ignore) => {
          const [lax, strict] = [order[Math.min(a, b)], order[Math.max(a, b)]] as const;
          const laxVerdict = scanVerdict(r, { maxSeverity: lax ?? 'CRITICAL', ignore });
          const strictVerdict = scanVerdict(r, { maxSeverity: strict ?? 'LOW', ignore });
          if (laxVerdict.verdict === 'blocked') expect(strictVerdict.verdict).toBe('blocked');
        },
      ),
    );
  });

  it('a blocked verdict lists the worst blocking findings, worst first, capped, none ignored', () => {
    fc.assert(
      fc.property(report, maxSeverity, fc.array(id), (r, max, ignore) => {
        const verdict = scanVerdict(r, { maxSeverity: max, ignore });
        if (verdict.verdict !== 'blocked' || r.status !== 'complete') return;
        const blocking = blockingFindings(r.findings, { maxSeverity: max, ignore });
        expect(verdict.total).toBe(blocking.length);
        expect(verdict.findings).toEqual(worstFindings(blocking));
        expect(verdict.findings.length).toBeLessThanOrEqual(MAX_LISTED_FINDINGS);
        for (const listed of verdict.findings) expect(ignore).not.toContain(listed.id);
        const ranks = verdict.findings.map((f) => severityRank(f.severity));
        expect(ranks).toEqual([...ranks].sort((x, y) => y - x));
        const worstLeft = Math.max(
          -1,
          ...blocking.filter((f) => !verdict.findings.includes(f)).map((f) => severityRank(f.severity)),
        );
        expect(Math.min(...ranks)).toBeGreaterThanOrEqual(worstLeft);
      }),
    );
  });
});
