/** Reading a worker's Prometheus metrics the way an operator would (its /metrics endpoint). */
export async function workerMetric(metricsUrl: string, series: string): Promise<number> {
  const text = await (await fetch(`${metricsUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

export const RUNNING = 'fleetchat_worker_running_sequences';
export const QUEUED = 'fleetchat_worker_queue_length';
/** Requests the worker ended because their caller cancelled (not because they ran out). */
export const CANCELLED = 'fleetchat_worker_requests_total{finish_reason="cancelled"}';
