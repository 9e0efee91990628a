/** One gRPC channel per worker address, reused by every request. */
import { WorkerClient } from '../../common/gen/worker';
import { createClient } from '../../common/grpc/client';
import { PLAINTEXT, type ClusterSecurity } from '../../common/grpc/credentials';

export class WorkerPool {
  private readonly clients = new Map<string, WorkerClient>();

  constructor(private readonly security: ClusterSecurity = PLAINTEXT) {}

  get(address: string): WorkerClient {
    let client = this.clients.get(address);
    if (!client) {
      client = createClient(WorkerClient, address, { 'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 2000 }, this.security.client('worker'));
      this.clients.set(address, client);
    }
    return client;
  }

  /** Drops a channel (e.g. after its worker disappeared). */
  forget(address: string): void {
    this.clients.get(address)?.close();
    this.clients.delete(address);
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }
}
