/**
 * The scan gate's rule, pure: what a registry's scan of the pushed image says (findings, or that no
 * finished scan exists yet) and the app's `scan` config go in; `pass`, `blocked` or `pending` comes
 * out, with the worst findings that decided it. The adapter (shared/adapters/aws/ecr-scan-findings)
 * turns ECR's basic and enhanced answers into a ScanReport; the step asks again while `pending`.
 */
import type { ScanGateConfig } from '../config/schema.js';

/**
 * Severities, most severe first. ECR basic scanning reports CRITICAL…INFORMATIONAL and UNDEFINED;
 * enhanced scanning (Amazon Inspector) also UNTRIAGED (a vulnerability not rated yet).
 */
export const FINDING_SEVERITIES = [
  'CRITICAL',
  'HIGH',
  'MEDIUM',
  'LOW',
  'INFORMATIONAL',
  'UNTRIAGED',
  'UNDEFINED',
] as const;
export type FindingSeverity = (typeof FINDING_SEVERITIES)[number];

/**
 * Higher is worse. INFORMATIONAL, UNTRIAGED and UNDEFINED rank below LOW, so no `maxSeverity`
 * blocks on them (the lowest gate is LOW); a severity Shiplane does not know ranks with UNDEFINED.
 */
export function severityRank(severity: string): number {
  switch (severity.toUpperCase()) {
    case 'CRITICAL':
      return 6;
    case 'HIGH':
      return 5;
    case 'MEDIUM':
      return 4;
    case 'LOW':
      return 3;
    case 'INFORMATIONAL':
      return 2;
    case 'UNTRIAGED':
      return 1;
    default:
      return 0;
  }
}

/** One vulnerability the scan found in the image, as a person acts on it. */
export interface ScanFinding {
  /** The CVE id (or the scanner's id when there is none: GHSA-…, ALAS-…). */
  readonly id: string;
  /** As the scanner wrote it, upper-case (see FINDING_SEVERITIES). */
  readonly severity: string;
  readonly package?: string;
  readonly installedVersion?: string;
  /** The version that fixes it, when the scanner knows one. */
  readonly fixedIn?: string;
  /** Where to read about it. */
  readonly url?: string;
}

/**
 * What the registry says about the pushed image's scan:
 * - `complete`: a finished scan and every finding it has;
 * - `pending`: no finished scan yet (not started, in progress): ask again;
 * - `unavailable`: there will be no findings to judge (the scan failed, the image is not supported,
 *   Inspector stopped watching it): the gate fails closed.
 */
export type ScanReport =
  | {
      readonly status: 'complete';
      readonly findings: readonly ScanFinding[];
      /** Which scanner: ECR basic scanning, or enhanced scanning (Amazon Inspector). */
      readonly scanner: 'basic' | 'enhanced';
      readonly completedAt?: string;
    }
  | { readonly status: 'pending'; readonly reason: string }
  | { readonly status: 'unavailable'; readonly reason: string };

/** The gate's answer for one look at the scan. */
export type ScanVerdict =
  | {
      readonly verdict: 'pass';
      /** Findings the ignore list let through (at or above the gate): the thread says so. */
      readonly ignored: number;
      readonly reason: string;
    }
  | {
      readonly verdict: 'blocked';
      readonly reason: string;
      /** The worst blocking findings, worst first, capped (see worstFindings). */
      readonly findings: readonly ScanFinding[];
      /** How many blocking findings there are in all (more than `findings` holds when capped). */
      readonly total: number;
    }
  | { readonly verdict: 'pending'; readonly reason: string };

/** How many findings a verdict carries: the thread lists these, one short line each. */
export const MAX_LISTED_FINDINGS = 10;

/** Worst first: severity, then whether a fix exists (actionable first), then id, so the order is stable. */
export function compareFindings(a: ScanFinding, b: ScanFinding): number {
  return (
    severityRank(b.severity) - severityRank(a.severity) ||
    Number(b.fixedIn !== undefined) - Number(a.fixedIn !== undefined) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0) ||
    (a.package ?? '').localeCompare(b.package ?? '')
  );
}

/** The `limit` worst findings, worst first. */
export function worstFindings(findings: readonly ScanFinding[], limit = MAX_LISTED_FINDINGS): ScanFinding[] {
  return [...findings].sort(compareFindings).slice(0, Math.max(0, limit));
}

/** True when the finding is at or above the gate's severity. */
export function reachesGate(finding: ScanFinding, maxSeverity: ScanGateConfig['maxSeverity']): boolean {
  return severityRank(finding.severity) >= severityRank(maxSeverity);
}

/** The findings that block: at or above the gate and not ignored (ids compared upper-case). */
export function blockingFindings(
  findings: readonly ScanFinding[],
  gate: Pick<ScanGateConfig, 'maxSeverity' | 'ignore'>,
): ScanFinding[] {
  const ignored = new Set(gate.ignore.map((id) => id.toUpperCase()));
  return findings.filter(
    (finding) => reachesGate(finding, gate.maxSeverity) && !ignored.has(finding.id.toUpperCase()),
  );
}

/** The gate's verdict on one report. */
export function scanVerdict(
  report: ScanReport,
  gate: Pick<ScanGateConfig, 'maxSeverity' | 'ignore'>,
): ScanVerdict {
  if (report.status === 'pending') return { verdict: 'pending', reason: report.reason };
  if (report.status === 'unavailable') {
    // Fails closed: an image nobody could scan is not known to be clean.
    return {
      verdict: 'blocked',
      reason: `no scan findings to judge: ${report.reason}`,
      findings: [],
      total: 0,
    };
  }
  const atGate = report.findings.filter((finding) => reachesGate(finding, gate.maxSeverity));
  const blocking = blockingFindings(report.findings, gate);
  const floor = gate.maxSeverity.toLowerCase();
  if (blocking.length === 0) {
    const ignored = atGate.length;
    return {
      verdict: 'pass',
      ignored,
      reason:
        ignored > 0
          ? `no ${floor} or worse findings but the ${ignored} ignored`
          : `no ${floor} or worse findings (${report.findings.length} in all)`,
    };
  }
  return {
    verdict: 'blocked',
    reason: `${countsText(blocking)} at or above ${floor}`,
    findings: worstFindings(blocking),
    total: blocking.length,
  };
}

/** The verdict when no finished scan came within the gate's timeout. */
export function scanTimedOut(timeout: string, lastReason: string): ScanVerdict {
  return {
    verdict: 'blocked',
    reason: `no finished scan within ${timeout} (${lastReason})`,
    findings: [],
    total: 0,
  };
}

/** `2 critical, 5 high findings`. */
function countsText(findings: readonly ScanFinding[]): string {
  const counts = new Map<string, number>();
  for (const finding of [...findings].sort(compareFindings)) {
    const key = finding.severity.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const parts = [...counts].map(([severity, n]) => `${n} ${severity}`);
  return `${parts.join(', ')} finding${findings.length === 1 ? '' : 's'}`;
}
