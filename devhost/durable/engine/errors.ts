/** Errors of the durable engine (the client-facing ones live in ../durable-api.ts). */

/** Why an orchestration instance failed because of how it was written or replayed (system side: never retried). */
export class NonDeterministicOrchestrationError extends Error {
  readonly code = 'non_deterministic_orchestration';
  constructor(
    readonly instanceId: string,
    readonly detail: string,
  ) {
    super(`Non-deterministic workflow detected in instance ${instanceId}: ${detail}`);
  }
}

/** An orchestrator asked for something devhost does not implement (entities, durable HTTP). */
export class UnsupportedActionError extends Error {
  readonly code = 'unsupported_action';
  constructor(readonly action: string) {
    super(`devhost's durable engine does not support ${action}`);
  }
}
