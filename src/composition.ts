/**
 * The composition root: the one place that turns settings into the parts the handlers use.
 * Services are built once per process, on first use (the app entry calls it at load so a bad
 * setting stops start-up). The Service Bus client is one per process and connects on first use,
 * so an app without ServiceBusConnection still serves the API; its first publish then fails the
 * attempt with a message naming the setting.
 */
import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import type { ServiceBusClient } from '@azure/service-bus';
import * as df from 'durable-functions';
import { loadProtocolRegistry } from './config/protocol-registry';
import { settingsFromProcessEnv, type Settings } from './config/settings';
import { validateCommandEnvelope } from './contracts/command-envelope';
import { validateStepPayload } from './contracts/step-payloads';
import type { Clock } from './domain/clock';
import { createJobLedger } from './ledger/create-job-ledger';
import { createShardLeases } from './ledger/create-shard-leases';
import type { Directive } from './contracts/directive';
import type { DirectivePublisher } from './messaging/directive-publisher';
import { ServiceBusReplyQuarantine } from './messaging/reply-quarantine';
import { createServiceBusClient } from './messaging/service-bus-client';
import { ServiceBusDirectivePublisher } from './messaging/service-bus-directive-publisher';
import { DurableOrchestrationControl } from './orchestration/durable-orchestration-control';
import { DurableOrchestrationSignals } from './orchestration/durable-orchestration-signals';
import { DurableOrchestrationStarter } from './orchestration/durable-orchestration-starter';
import type { Services } from './services';

export const systemClock: Clock = { now: () => new Date() };

export function createServices(settings: Settings): Services {
  let client: ServiceBusClient | undefined;
  const serviceBusClient = (): ServiceBusClient => {
    if (settings.serviceBus.connection === undefined) {
      throw new RangeError(
        'Service Bus is not configured: set ServiceBusConnection (or ServiceBusConnection__fullyQualifiedNamespace)',
      );
    }
    client ??= createServiceBusClient(settings.serviceBus.connection);
    return client;
  };
  let publisher: ServiceBusDirectivePublisher | undefined;
  const lazyPublisher: DirectivePublisher = {
    publish: (directive: Directive) => {
      publisher ??= new ServiceBusDirectivePublisher({
        client: serviceBusClient(),
        topicPrefix: settings.serviceBus.topicPrefix,
      });
      return publisher.publish(directive);
    },
    close: async () => {
      await publisher?.close();
      await client?.close();
    },
  };
  return {
    settings,
    ledger: createJobLedger(settings.storage),
    registry: loadProtocolRegistry(settings.protocolRegistryPath),
    validateEnvelope: validateCommandEnvelope,
    validateStepPayload,
    clock: systemClock,
    newJobId: randomUUID,
    starterFor: (context: InvocationContext) => new DurableOrchestrationStarter(() => df.getClient(context)),
    signalsFor: (context: InvocationContext) => new DurableOrchestrationSignals(() => df.getClient(context)),
    controlFor: (context: InvocationContext) => new DurableOrchestrationControl(() => df.getClient(context)),
    shardLeases: createShardLeases(settings.storage),
    publisher: lazyPublisher,
    quarantine: new ServiceBusReplyQuarantine(serviceBusClient, settings.serviceBus.quarantineQueue),
  };
}

let services: Services | undefined;

export function getServices(): Services {
  services ??= createServices(settingsFromProcessEnv());
  return services;
}

/** Replaces the process's services (tests host the real app over in-memory or emulated parts). */
export function useServices(replacement: Services): void {
  services = replacement;
}
