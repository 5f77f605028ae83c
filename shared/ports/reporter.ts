/**
 * How approvals and notifications report what went wrong without failing: a log line and a metric.
 * Handlers pass the Powertools logger and metrics (shared/observability/reporter.ts); the steps never
 * import them directly, so tests can see exactly what was logged and counted.
 */

export interface Reporter {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
  /** Adds 1 to a count metric (e.g. `SlackNotificationFailed`). */
  count(metric: string): void;
}

/** What an error says, for a log line: its name, message and (for AWS / Slack) code. */
export function errorAttributes(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { error: String(error) };
  const code = (error as { code?: unknown }).code;
  return { error: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
}
