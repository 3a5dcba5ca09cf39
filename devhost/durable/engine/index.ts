/** devhost's durable engine: the public surface for the host, the HTTP API and tests. */
export { createDurableEngine, isRunningStatus } from './engine';
export type { DevhostDurableEngine, DurableEngineOptions, EngineLogLevel, StartOptions } from './engine';
export { compareVersions, VERSION_FAILURE_STRATEGIES, VERSION_MATCH_STRATEGIES } from './versioning';
export type { OrchestrationVersioning, VersionFailureStrategy, VersionMatchStrategy } from './versioning';
export { MemoryDurableStore } from './memory-store';
export { TableDurableStore, encodeTableKey, decodeTableKey } from './table-store';
export type { TableDurableStoreOptions } from './table-store';
export type { DurableStore, EpisodeCommit, InstanceRecord, InstanceState, WorkItem } from './store';
export { registerDurableFunctions } from './registrations';
export type { FunctionRegistration } from './registrations';
export { createTestDurableEnvironment } from './test-environment';
export type { TestDurableEnvironment, TestDurableEnvironmentOptions } from './test-environment';
export { InstanceConflictError, NonDeterministicOrchestrationError, UnsupportedActionError } from './errors';
export { HistoryEventType, toDisplayHistory } from './history';
export type { HistoryEvent, StoredEvent } from './history';
export type { TableStorageConnection } from './table-client';
