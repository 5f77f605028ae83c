/**
 * Where a finished run's delivery metrics go: CloudWatch through Powertools EMF in Lambda
 * (shared/observability/delivery-metrics.ts), the same in-memory Powertools outside it.
 */
import type { DeliveryPoint } from '../domain/delivery-metrics.js';

export type DeliveryMetricsSink = (points: readonly DeliveryPoint[]) => void;
