/**
 * The composition root: the one place that turns settings into the parts the handlers use.
 * Services are built once per process, on first use (the app entry calls it at load so a bad
 * setting stops start-up).
 */
import { randomUUID } from 'node:crypto';
import type { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { loadProtocolRegistry } from './config/protocol-registry';
import { settingsFromProcessEnv, type Settings } from './config/settings';
import { validateCommandEnvelope } from './contracts/command-envelope';
import { validateStepPayload } from './contracts/step-payloads';
import type { Clock } from './domain/clock';
import { createJobLedger } from './ledger/create-job-ledger';
import { DurableOrchestrationStarter } from './orchestration/durable-orchestration-starter';
import type { Services } from './services';

export const systemClock: Clock = { now: () => new Date() };

export function createServices(settings: Settings): Services {
  return {
    settings,
    ledger: createJobLedger(settings.storage),
    registry: loadProtocolRegistry(settings.protocolRegistryPath),
    validateEnvelope: validateCommandEnvelope,
    validateStepPayload,
    clock: systemClock,
    newJobId: randomUUID,
    starterFor: (context: InvocationContext) => new DurableOrchestrationStarter(() => df.getClient(context)),
  };
}

let services: Services | undefined;

export function getServices(): Services {
  services ??= createServices(settingsFromProcessEnv());
  return services;
}
