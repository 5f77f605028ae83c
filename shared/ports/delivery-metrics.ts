/**
 * Where a finished run's delivery metrics go: CloudWatch through Powertools EMF in Lambda
 * (shared/observability/delivery-metrics.ts), the same in-memory Powertools outside it.
 */
import type { DeliveryPoint } from '../domain/delivery-metrics.js';

export type DeliveryMetricsSink = (points: readonly DeliveryPoint[]) => void;

/**
 * The dimensions a point is published with (Powertools adds its `service` beside them). The emitter
 * and the stack's dashboard and alarm both build them here, so the two cannot drift apart.
 */
export function deliveryMetricDimensions(point: Pick<DeliveryPoint, 'app' | 'stage'>): {
  app: string;
  stage: string;
} {
  return { app: point.app, stage: point.stage };
}
