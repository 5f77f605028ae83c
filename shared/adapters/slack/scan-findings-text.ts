/**
 * The scan gate's findings as Slack mrkdwn lines: one per finding (id linked to its advisory,
 * severity, package and version, the fixed version), added while they fit the text budget so a
 * link is never cut in half, then how many more there are. A section's text holds 3,000
 * characters; the reply is one section, far below Slack's 50 blocks.
 */
import type { ScanFindingView } from '../../contracts/tasks.js';
import { clip } from '../../domain/text.js';
import { code, escapeSlackText, link } from './slack-text.js';

/** One finding: `• <url|CVE-2024-3094> CRITICAL in xz-utils 5.6.0, fixed in 5.6.1`. */
export function findingLine(finding: ScanFindingView): string {
  const id = link(finding.url, code(clip(finding.id, 80)));
  const where = finding.package
    ? ` in ${code(clip(`${finding.package}${finding.installedVersion ? ` ${finding.installedVersion}` : ''}`, 120))}`
    : '';
  const fix = finding.fixedIn ? `, fixed in ${code(clip(finding.fixedIn, 80))}` : ', no fixed version yet';
  return `• ${id} ${escapeSlackText(clip(finding.severity, 20))}${where}${fix}`;
}

/**
 * The lines for the findings, worst first as given, within `budget` characters (newlines
 * included); `total` is how many blocking findings there are in all, so the rest is counted.
 */
export function findingLines(findings: readonly ScanFindingView[], total: number, budget: number): string[] {
  const lines: string[] = [];
  let used = 0;
  const moreLine = (n: number) => `…and ${n} more`;
  for (const [index, finding] of findings.entries()) {
    const line = findingLine(finding);
    const left = total - index - 1;
    // Keep room for the "and N more" line whenever something would be left out.
    const reserve = left > 0 ? moreLine(left).length + 1 : 0;
    if (used + line.length + 1 + reserve > budget) break;
    lines.push(line);
    used += line.length + 1;
  }
  const shown = lines.length;
  if (total > shown) lines.push(moreLine(total - shown));
  return lines;
}
