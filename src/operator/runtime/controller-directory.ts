/** The fleetchat controller as the operator sees it: list workers and deregister them (one gRPC client per address). */
import { Metadata } from '@grpc/grpc-js';
import { ControllerClient, type WorkerInfo } from '../../common/gen/controller';
import { createClient, unary } from '../../common/grpc/client';
import type { ClientSecurity } from '../../common/grpc/credentials';

export interface WorkerDirectory {
  listWorkers(controllerAddress: string): Promise<WorkerInfo[]>;
  deregister(controllerAddress: string, workerId: string): Promise<boolean>;
  close(): void;
}

export function controllerDirectory(timeoutMs: number, security?: ClientSecurity): WorkerDirectory {
  const clients = new Map<string, ControllerClient>();
  const client = (address: string): ControllerClient => {
    let c = clients.get(address);
    if (!c) {
      c = createClient(ControllerClient, address, {}, security);
      clients.set(address, c);
    }
    return c;
  };
  return {
    listWorkers: async (address) => {
      const c = client(address);
      return (await unary(c.listWorkers.bind(c), { model: '' }, new Metadata(), timeoutMs)).workers;
    },
    deregister: async (address, workerId) => {
      const c = client(address);
      return (await unary(c.deregisterWorker.bind(c), { workerId }, new Metadata(), timeoutMs)).removed;
    },
    close: () => {
      for (const c of clients.values()) c.close();
      clients.clear();
    },
  };
}
