/** devhost's durable engine: the public surface for the host, the HTTP API and tests. */
export { createDurableEngine, isRunningStatus } from './engine';
export type { DevhostDurableEngine, DurableEngineOptions, EngineLogLevel } from './engine';
export { SystemClock, ManualClock } from './clock';
export type { Clock, ClockTimer } from './clock';
export { MemoryDurableStore } from './memory-store';
export { TableDurableStore, encodeTableKey, decodeTableKey } from './table-store';
export type { TableDurableStoreOptions } from './table-store';
export type { DurableStore, InstanceRecord, WorkItem } from './store';
export { registerDurableFunctions } from './registrations';
export type { FunctionRegistration } from './registrations';
export { createTestDurableEnvironment } from './test-environment';
export type { TestDurableEnvironment, TestDurableEnvironmentOptions } from './test-environment';
export { NonDeterministicOrchestrationError, UnsupportedActionError } from './errors';
export { HistoryEventType, toDisplayHistory } from './history';
export type { HistoryEvent, StoredEvent } from './history';
