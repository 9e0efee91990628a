/** The gateway's Prometheus metrics. */
import { Counter, Gauge, Histogram, LATENCY_BUCKETS_S, type Registry } from '../common/metrics';

export interface GatewayMetrics {
  request(route: string, status: number, seconds: number): void;
  firstToken(route: string, seconds: number): void;
  tokens(route: string, count: number): void;
  /** A connection closed at once because --max-connections were open. */
  connectionRefused(): void;
  /** One worker choice for a generation, by why that worker ('' = prefix routing off); handed to dispatch as its onRoute callback. */
  dispatched: (reason: string) => void;
  /** One worker Generate call opened, by transport (grpc, in_process). */
  workerCall: (transport: string) => void;
}

/** `workerCalls`: the worker Generate calls this gateway has open (read at scrape time). */
export function createGatewayMetrics(registry: Registry, workerCalls: () => number = () => 0): GatewayMetrics {
  new Gauge({ name: 'fleetchat_gateway_worker_calls', help: 'Worker Generate calls this gateway has open', registers: [registry], collect() { this.set(workerCalls()); } });
  const requests = new Counter({ name: 'fleetchat_gateway_requests_total', help: 'HTTP requests by route and status', labelNames: ['route', 'status'], registers: [registry] });
  const duration = new Histogram({ name: 'fleetchat_gateway_request_seconds', help: 'HTTP request duration', labelNames: ['route'], buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const ttft = new Histogram({ name: 'fleetchat_gateway_time_to_first_token_seconds', help: 'Time to the first streamed token', labelNames: ['route'], buckets: LATENCY_BUCKETS_S, registers: [registry] });
  const tokens = new Counter({ name: 'fleetchat_gateway_completion_tokens_total', help: 'Completion tokens returned', labelNames: ['route'], registers: [registry] });
  const refusedConnections = new Counter({ name: 'fleetchat_gateway_connections_refused_total', help: 'Connections closed at once because --max-connections were open', registers: [registry] });
  const dispatches = new Counter({ name: 'fleetchat_gateway_dispatch_total', help: 'Workers chosen for generations, by reason: prefix (holds the longest known prefix), affinity (the conversation\'s rendezvous-hash worker), load (shortest queue), none (prefix routing off)', labelNames: ['reason'], registers: [registry] });
  const calls = new Counter({ name: 'fleetchat_gateway_worker_calls_total', help: 'Worker Generate calls opened, by transport: grpc, or in_process (a worker in the same process, fleetchat up)', labelNames: ['transport'], registers: [registry] });
  return {
    workerCall: (transport) => calls.inc({ transport }),
    connectionRefused: () => refusedConnections.inc(),
    dispatched: (reason) => dispatches.inc({ reason: reason || 'none' }),
    request: (route, status, seconds) => {
      requests.inc({ route, status: String(status) });
      duration.observe({ route }, seconds);
    },
    firstToken: (route, seconds) => ttft.observe({ route }, seconds),
    tokens: (route, count) => tokens.inc({ route }, count),
  };
}
