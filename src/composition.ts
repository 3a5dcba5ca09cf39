/**
 * The composition root: the one place that turns settings into the adapters behind the ports
 * (`createAdapters`) and those into each use case's dependencies (`assembleServices`, which tests
 * use over in-memory adapters). Services are built once per process, on first use (the app entry
 * calls it at load so a bad setting stops start-up). The Service Bus client is one per process and
 * connects on first use, so an app without ServiceBusConnection still serves the API; its first
 * publish then fails the attempt with a message naming the setting.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { InvocationContext } from '@azure/functions';
import type { ServiceBusClient } from '@azure/service-bus';
import * as df from 'durable-functions';
import { loadProtocolRegistry } from './config/protocol-registry';
import { loadAppSettingsFromProcessEnv, type Settings, type SettingWarning } from './config/settings';
import type { AuthSettings } from './config/auth-settings';
import { assembleHttpSecurity, createAuthAdapters, type AuthAdapters } from './composition-security';
import { validateCommandEnvelope } from './contracts/command-envelope';
import type { Directive } from './contracts/directive';
import { validateStepPayload } from './contracts/step-payloads';
import type { Clock } from './domain/clock';
import type { ProtocolRegistry, StepPayloadValidator } from './domain/protocol';
import type { ReplyTimings } from './domain/to-step-event';
import { createJobLedger } from './ledger/create-job-ledger';
import { createShardLeases } from './ledger/create-shard-leases';
import { createServiceBusClient } from './messaging/service-bus-client';
import { ServiceBusDirectivePublisher } from './messaging/service-bus-directive-publisher';
import { ServiceBusProbe } from './messaging/service-bus-probe';
import { ServiceBusReplyQuarantine } from './messaging/service-bus-reply-quarantine';
import { DurableOrchestrationControl } from './orchestration/durable-orchestration-control';
import { DurableOrchestrationSignals } from './orchestration/durable-orchestration-signals';
import { DurableOrchestrationStarter } from './orchestration/durable-orchestration-starter';
import type { DependencyProbe } from './ports/dependency-probe';
import type { DirectivePublisher } from './ports/directive-publisher';
import type { JobLedger } from './ports/job-ledger';
import type { OrchestrationControl } from './ports/orchestration-control';
import type { OrchestrationSignals } from './ports/orchestration-signals';
import type { OrchestrationStarter } from './ports/orchestration-starter';
import type { ReplyQuarantine } from './ports/reply-quarantine';
import type { ShardLeases } from './ports/shard-leases';
import type { Services } from './services';
import { telemetrySettingsFromProcessEnv } from './config/telemetry-settings';
import { callbackKeyRingFromProcessEnv, ephemeralCallbackKeyRing } from './config/callback-settings';
import type { CallbackKeyRing } from './guards/callback-token';
import type { Telemetry } from './ports/telemetry';
import type { DispatchSlots } from './ports/dispatch-slots';
import { createDispatchSlots } from './ledger/dispatch-slots/create-dispatch-slots';
import { MemoryDispatchSlots } from './ledger/dispatch-slots/memory-dispatch-slots';
import { slotPolicy } from './usecases/job-activities';
import { SILENT_TELEMETRY } from './telemetry/memory-telemetry';
import { startTelemetry } from './telemetry/start-telemetry';
import type { EnvelopeValidator } from './usecases/admit-command';

export const systemClock: Clock = { now: () => new Date() };

/** The adapters behind the ports, with the settings they were built from. */
export interface Adapters {
  readonly settings: Settings;
  readonly ledger: JobLedger;
  readonly registry: ProtocolRegistry;
  readonly validateEnvelope: EnvelopeValidator;
  readonly validateStepPayload: StepPayloadValidator;
  readonly clock: Clock;
  readonly newJobId: () => string;
  /** The orchestration starter bound to this invocation (the durable client comes from its input binding). */
  readonly starterFor: (context: InvocationContext) => OrchestrationStarter;
  /** Raises events on job orchestrations through this invocation's durable client. */
  readonly signalsFor: (context: InvocationContext) => OrchestrationSignals;
  /** Inspects, starts, restarts, signals and purges job orchestrations (sweepers, job deletion). */
  readonly controlFor: (context: InvocationContext) => OrchestrationControl;
  /** Who sweeps which shard (lane) now: the sweeper timers take a lease per shard for their run. */
  readonly shardLeases: ShardLeases;
  /** Hands directives to the workers (one Service Bus client per process, connected on first use). */
  readonly publisher: DirectivePublisher;
  /** Parks replies that can never be processed, with their reason. */
  readonly quarantine: ReplyQuarantine;
  /** Lifecycle events, metrics and the job's trace (src/telemetry/); silent when absent. */
  readonly telemetry?: Telemetry;
  /** Proves Service Bus answers, for the readiness probe; absent without Service Bus (in-memory wiring). */
  readonly serviceBusProbe?: DependencyProbe;
  /** Signs the directives' callback tokens and verifies them on HTTP callbacks (config/callback-settings.ts). */
  readonly callbackKeys: CallbackKeyRing;
  /** Flow control: the dispatch slots per lane and step type (in memory when absent: tests, tools). */
  readonly slots?: DispatchSlots;
  /** The API's authenticator and grants; without them every API request answers 503 (composition-security.ts). */
  readonly auth?: AuthAdapters;
}

/** `callbackKeys` defaults to a key of this process alone (tests, tools); the app passes the configured ones. */
export function createAdapters(
  settings: Settings,
  telemetry: Telemetry = SILENT_TELEMETRY,
  callbackKeys: CallbackKeyRing = ephemeralCallbackKeyRing(),
  auth?: AuthSettings,
): Adapters {
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
    starterFor: (context: InvocationContext) =>
      new DurableOrchestrationStarter(
        () => df.getClient(context),
        () => telemetry.current(),
      ),
    signalsFor: (context: InvocationContext) => new DurableOrchestrationSignals(() => df.getClient(context)),
    controlFor: (context: InvocationContext) => new DurableOrchestrationControl(() => df.getClient(context)),
    shardLeases: createShardLeases(settings.storage),
    slots: createDispatchSlots(settings.storage),
    publisher: lazyPublisher,
    quarantine: new ServiceBusReplyQuarantine(serviceBusClient, settings.serviceBus.quarantineQueue),
    telemetry,
    serviceBusProbe: new ServiceBusProbe(serviceBusClient, settings.serviceBus.quarantineQueue),
    callbackKeys,
    ...(auth === undefined ? {} : { auth: createAuthAdapters(auth, settings) }),
  };
}

/** Each use case's dependencies, built once from the adapters. */
export function assembleServices(adapters: Adapters): Services {
  const { settings, ledger, clock, publisher, quarantine } = adapters;
  const slots = adapters.slots ?? new MemoryDispatchSlots();
  const timings: ReplyTimings = {
    leaseMinutes: settings.steps.leaseMinutes,
    stepResultTimeoutSeconds: settings.steps.stepResultTimeoutSeconds,
    maxAttempts: settings.steps.maxAttempts,
    backoff: settings.steps.backoff,
  };
  const telemetry = adapters.telemetry ?? SILENT_TELEMETRY;
  const ingestReply = (context: InvocationContext) => ({
    ledger,
    clock,
    timings,
    signals: adapters.signalsFor(context),
    telemetry,
    ackTimeoutSeconds: settings.steps.ackTimeoutSeconds,
    slots,
    slotPolicy: slotPolicy(settings),
  });
  return {
    settings,
    security: assembleHttpSecurity(settings, clock, adapters.auth),
    http: {
      maxBodyBytes: settings.admission.maxBodyBytes,
      backpressureRetryAfterSeconds: settings.admission.backpressureRetryAfterSeconds,
    },
    readiness: {
      ledger,
      backend: settings.storage.backend,
      ...(adapters.serviceBusProbe === undefined ? {} : { serviceBus: adapters.serviceBusProbe }),
      durableFor: adapters.controlFor,
      taskHub: settings.taskHub,
      timeoutMs: settings.health.timeoutMs,
      elapsedMs: () => performance.now(),
    },
    admitCommand: (context) => ({
      ledger,
      starter: adapters.starterFor(context),
      clock,
      newJobId: adapters.newJobId,
      registry: adapters.registry,
      validateEnvelope: adapters.validateEnvelope,
      validateStepPayload: adapters.validateStepPayload,
      settings,
      telemetry,
    }),
    readJobs: { ledger },
    controlJob: (context) => ({
      ledger,
      clock,
      signals: adapters.signalsFor(context),
      starter: adapters.starterFor(context),
      maxInflightPerTenant: settings.admission.maxInflightPerTenant,
      telemetry,
    }),
    deleteJob: (context) => ({ ledger, control: adapters.controlFor(context) }),
    ingestReply,
    callbackKeys: adapters.callbackKeys,
    replyMessage: (context) => ({ ...ingestReply(context), quarantine }),
    jobActivities: {
      ledger,
      publisher,
      clock,
      settings,
      telemetry,
      callbackKeys: adapters.callbackKeys,
      slots,
    },
    sweeper: (context) => ({
      ledger,
      slots,
      control: adapters.controlFor(context),
      leases: adapters.shardLeases,
      clock,
      settings,
      by: context.functionName,
      log: (event, fields) => context.info(JSON.stringify({ event, ...fields })),
      telemetry,
    }),
    telemetry,
    close: () => publisher.close(),
  };
}

export function createServices(
  settings: Settings,
  telemetry?: Telemetry,
  callbackKeys?: CallbackKeyRing,
  auth?: AuthSettings,
): Services {
  return assembleServices(createAdapters(settings, telemetry, callbackKeys, auth));
}

let services: Services | undefined;

export function getServices(): Services {
  if (services === undefined) {
    const { settings, auth, warnings } = loadAppSettingsFromProcessEnv();
    logSettingsWarnings(warnings);
    services = createServices(
      settings,
      startTelemetry(telemetrySettingsFromProcessEnv()).telemetry,
      callbackKeyRingFromProcessEnv(),
      auth,
    );
  }
  return services;
}

/** Start-up warnings (unknown or removed variables, an unprotected auth mode) go to the host's log, one line each. */
function logSettingsWarnings(warnings: readonly SettingWarning[]): void {
  for (const warning of warnings) console.warn(`Lucius settings: ${warning.message}`);
}

/** Replaces the process's services (tests host the real app over in-memory or emulated parts). */
export function useServices(replacement: Services): void {
  services = replacement;
}
