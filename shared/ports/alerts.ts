/**
 * Alerts: what went wrong with a run, for the people subscribed (SNS in AWS,
 * shared/adapters/aws/sns-alert-topic.ts; the sandbox shows them in its console).
 */
import type { Alert } from '../domain/release-thread.js';

export type AlertPublisher = (alert: Alert) => Promise<void>;
