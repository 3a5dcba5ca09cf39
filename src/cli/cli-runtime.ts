/**
 * What the `lucius` commands work with, built from the same settings as the app (the environment,
 * over local.settings.json in the working directory) and only when a command needs it: the ledger,
 * the shard leases, the orchestrations (through the Durable Functions HTTP API, since a process
 * outside Functions has no durable client binding) and the Service Bus client. `close` releases
 * whatever was opened.
 */
import type { ServiceBusClient } from '@azure/service-bus';
import type { Settings } from '../config/settings';
import type { Clock } from '../domain/clock';
import { createJobLedger } from '../ledger/create-job-ledger';
import { createShardLeases } from '../ledger/create-shard-leases';
import type { JobLedger } from '../ports/job-ledger';
import type { ShardLeases } from '../ports/shard-leases';
import { createServiceBusClient } from '../messaging/service-bus-client';
import { DurableOrchestrationControl } from '../orchestration/durable-orchestration-control';
import type { OrchestrationControl } from '../ports/orchestration-control';
import { durableHttpClient } from './durable-http-client';
import { UsageError } from './exit-codes';

export const systemClock: Clock = { now: () => new Date() };

export class CliRuntime {
  readonly clock: Clock = systemClock;
  private ledgerInstance: JobLedger | undefined;
  private leasesInstance: ShardLeases | undefined;
  private controlInstance: OrchestrationControl | undefined;
  private serviceBusInstance: ServiceBusClient | undefined;

  constructor(readonly settings: Settings) {}

  get ledger(): JobLedger {
    this.ledgerInstance ??= createJobLedger(this.settings.storage);
    return this.ledgerInstance;
  }

  get leases(): ShardLeases {
    this.leasesInstance ??= createShardLeases(this.settings.storage);
    return this.leasesInstance;
  }

  /** The job orchestrations, through the Durable Functions HTTP API (LUCIUS_DURABLE_API_URL). */
  get control(): OrchestrationControl {
    if (this.controlInstance === undefined) {
      const api = this.settings.durableApi;
      if (api === undefined)
        throw new UsageError(
          'LUCIUS_DURABLE_API_URL is not set: the orchestrations are reached through the Durable Functions HTTP API, e.g. http://127.0.0.1:7071/runtime/webhooks/durabletask (and LUCIUS_DURABLE_API_KEY, the durabletask_extension system key, on Azure)',
        );
      const client = durableHttpClient(api, this.settings.taskHub);
      this.controlInstance = new DurableOrchestrationControl(() => client);
    }
    return this.controlInstance;
  }

  get serviceBus(): ServiceBusClient {
    if (this.settings.serviceBus.connection === undefined)
      throw new UsageError(
        'Service Bus is not configured: set ServiceBusConnection (or ServiceBusConnection__fullyQualifiedNamespace)',
      );
    this.serviceBusInstance ??= createServiceBusClient(this.settings.serviceBus.connection);
    return this.serviceBusInstance;
  }

  async close(): Promise<void> {
    await this.serviceBusInstance?.close();
  }
}
