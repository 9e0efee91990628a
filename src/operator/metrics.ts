/** Prometheus metrics of the operator (fleetchat_operator_*). */
import { Counter, Gauge, Histogram, type Registry } from '../common/metrics';

export interface OperatorMetrics {
  reconciles: Counter<'result'>;
  reconcileSeconds: Histogram;
  queueDepth: Gauge;
  leader: Gauge;
}

export function createOperatorMetrics(registry: Registry, depth: () => number): OperatorMetrics {
  return {
    reconciles: new Counter({ name: 'fleetchat_operator_reconcile_total', help: 'ModelWorker reconciles by result (success, conflict, error)', labelNames: ['result'], registers: [registry] }),
    reconcileSeconds: new Histogram({ name: 'fleetchat_operator_reconcile_duration_seconds', help: 'Duration of one reconcile', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: [registry] }),
    queueDepth: new Gauge({ name: 'fleetchat_operator_workqueue_depth', help: 'Keys waiting in the work queue', registers: [registry], collect() { this.set(depth()); } }),
    leader: new Gauge({ name: 'fleetchat_operator_leader', help: '1 while this replica holds the leader Lease', registers: [registry] }),
  };
}
