/**
 * The DependencyProbe port: one cheap round trip that proves a dependency answers, for the
 * readiness probe (`GET /api/healthz`). `probe` resolves when the dependency answered and throws
 * when it did not; it stops early (rejecting) once `signal` aborts, when the adapter can.
 * Adapters: messaging/service-bus-probe.ts (the ledger and the durable task hub are asked through
 * their own ports: `JobLedger.ping`, `OrchestrationControl.inspect`).
 */
export interface DependencyProbe {
  /** What is asked, for the answer (e.g. the queue peeked). */
  readonly target: string;
  probe(signal: AbortSignal): Promise<void>;
}
