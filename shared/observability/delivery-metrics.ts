/**
 * Delivery metrics as EMF: each point is published with the dimensions app and stage (and the
 * service), in the `Shiplane` namespace the handlers' Metrics uses. A single-metric instance per
 * point, so one run's stages never share a dimension set.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type DeliveryMetricsSink, deliveryMetricDimensions } from '../ports/delivery-metrics.js';

export function powertoolsDeliveryMetrics(metrics: Metrics): DeliveryMetricsSink {
  return (points) => {
    for (const point of points) {
      const single = metrics.singleMetric();
      single.addDimensions(deliveryMetricDimensions(point));
      single.addMetric(
        point.name,
        point.unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.Count,
        point.value,
      );
    }
  };
}
