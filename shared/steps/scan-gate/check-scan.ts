/**
 * The scan gate task: one look at the pushed image's scan. The app's gate (`apps.<name>.scan`)
 * judges the findings (domain/scan-verdict); while the scan is not finished the answer is
 * `pending` and the state machine asks again, and the last allowed poll turns `pending` into
 * `blocked` (no finished scan within the timeout). Nothing here writes anything.
 */
import { formatDuration } from '../../config/duration.js';
import type { Config } from '../../config/schema.js';
import type { ScanGateInput, ScanGateResult } from '../../contracts/tasks.js';
import { type ScanVerdict, scanTimedOut, scanVerdict } from '../../domain/scan-verdict.js';
import type { Reporter } from '../../ports/reporter.js';
import type { ScanFindingsSource } from '../../ports/scan-findings.js';

export interface ScanGateDeps {
  readonly config: Config;
  readonly findings: ScanFindingsSource;
  readonly reporter: Reporter;
  readonly now: () => Date;
}

export async function checkScanGate(input: ScanGateInput, deps: ScanGateDeps): Promise<ScanGateResult> {
  const { release } = input;
  const app = deps.config.apps[release.app];
  const answer = (verdict: ScanVerdict): ScanGateResult => ({
    verdict: verdict.verdict,
    reason: verdict.reason,
    findings: verdict.verdict === 'blocked' ? verdict.findings.map((finding) => ({ ...finding })) : [],
    total: verdict.verdict === 'blocked' ? verdict.total : 0,
    ignored: verdict.verdict === 'pass' ? verdict.ignored : 0,
    checkedAt: deps.now().toISOString(),
    attempt: input.attempt,
  });
  // Fails closed: the gate judges only the repository the config names for the app.
  if (!app) {
    return answer({
      verdict: 'blocked',
      reason: `no app ${release.app} in the config`,
      findings: [],
      total: 0,
    });
  }
  if (app.ecrRepository !== release.ecrRepository) {
    return answer({
      verdict: 'blocked',
      reason: `the release's repository ${release.ecrRepository} is not app ${release.app}'s (${app.ecrRepository})`,
      findings: [],
      total: 0,
    });
  }
  // The state machine routes only apps with a gate here; one without passes as it would have.
  if (!app.scan)
    return answer({ verdict: 'pass', ignored: 0, reason: `app ${release.app} has no scan gate` });

  const report = await deps.findings(release);
  let verdict = scanVerdict(report, app.scan);
  if (verdict.verdict === 'pending' && input.attempt >= input.maxAttempts) {
    verdict = scanTimedOut(formatDuration(app.scan.timeout), verdict.reason);
  }
  deps.reporter.info(`scan gate: ${verdict.verdict}: ${verdict.reason}`, {
    app: release.app,
    tag: release.tag,
    digest: release.digest,
    attempt: input.attempt,
    maxAttempts: input.maxAttempts,
    ...(report.status === 'complete' ? { scanner: report.scanner, findings: report.findings.length } : {}),
  });
  deps.reporter.count(`ScanGate_${verdict.verdict}`);
  return answer(verdict);
}
