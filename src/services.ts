/**
 * What the function handlers need, assembled once by the composition root (src/composition.ts)
 * and replaced by tests with in-memory parts.
 */
import type { InvocationContext } from '@azure/functions';
import type { Settings } from './config/settings';
import type { CommandEnvelope } from './contracts/command-envelope';
import type { Clock } from './domain/clock';
import type { Violation } from './domain/errors';
import type { ProtocolRegistry, StepPayloadValidator } from './domain/protocol';
import type { JobLedger } from './ledger/job-ledger';
import type { ShardLeases } from './ledger/shard-leases';
import type { DirectivePublisher } from './messaging/directive-publisher';
import type { ReplyQuarantine } from './messaging/reply-quarantine';
import type { OrchestrationControl } from './orchestration/orchestration-control';
import type { OrchestrationSignals } from './orchestration/orchestration-signals';
import type { OrchestrationStarter } from './orchestration/orchestration-starter';

export type EnvelopeValidator = (
  value: unknown,
) =>
  | { readonly ok: true; readonly value: CommandEnvelope }
  | { readonly ok: false; readonly violations: readonly Violation[] };

export interface Services {
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
}
