/**
 * The contract between the host and the parts plugged into it (durable support, Service Bus
 * support): the host knows no part by its code, only by this shape; whoever starts the host
 * (launch.ts, a test, a project's launcher) hands it the parts it wants.
 *
 * A part's life, as the host drives it:
 *  1. `register`: once the app is loaded and before the host listens, the part receives the enabled
 *     functions of the kinds it runs (`kinds`), how to invoke them, and the host configuration; it
 *     refuses a configuration it cannot work with (a DevhostError);
 *  2. `listening`: once the host listens, where it listens and its system key;
 *  3. `start`, after the app's `appStart` hooks, and `stop`, before the app's `appTerminate` hooks.
 *     A part that serves an HTTP API (`httpApi`: what the app's own calls reach) starts before the
 *     host's timers and stops after the host's listeners close; a part that only brings events in
 *     starts after the timers and stops first, so nothing arrives once stopping has begun.
 *
 * Its `inputs` fill the input bindings of their type (e.g. `durableClient`) at every invocation.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { HostConfig } from './host-config';
import type { HostedFunction, PartKind } from './functions';
import type { TraceParentInput } from './trace-context';

/** Answers a request under the API's paths; resolves false for a path it does not serve. */
export type PartHttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

/**
 * An HTTP API a part serves through the host. Its paths are reserved: no HTTP function answers them.
 */
export interface PartHttpApi {
  /** Names the API in the host's answers, e.g. "the Durable Functions HTTP API". */
  readonly title: string;
  /** The name of the system key its public paths take, e.g. `durabletask_extension` (Azure's name). */
  readonly keyName: string;
  /**
   * Served on the host's port to callers with the system key (or the master key), e.g.
   * `/runtime/webhooks/durabletask`; no trailing slash.
   */
  readonly publicPath: string;
  /**
   * Served without a key on the host's internal loopback listener only (the public port answers it
   * 404), e.g. `/durabletask`, where the app's own SDK calls go; no trailing slash.
   */
  readonly internalPath?: string;
  readonly handle: PartHttpHandler;
}

/** What an invocation carries besides its trigger value and metadata. */
export interface InvocationOptions {
  /**
   * The caller's trace, when the trigger carries one (e.g. a message's `Diagnostic-Id`): the
   * invocation's `context.traceContext` continues it; without one a new trace starts.
   */
  readonly parentTrace?: TraceParentInput;
}

/**
 * Invokes a hosted function as the host does (context with its trace context, logs, input bindings,
 * the app's invocation hooks) and returns its result.
 */
export type InvokeFunction = (
  fn: HostedFunction,
  trigger: unknown,
  triggerMetadata?: Record<string, unknown>,
  invocation?: InvocationOptions,
) => Promise<unknown>;

export interface PartRegistration {
  /** The enabled functions of the part's kinds, in registration order. */
  readonly functions: readonly HostedFunction[];
  readonly invoke: InvokeFunction;
  readonly config: HostConfig;
  /** The environment the app reads (its settings). */
  readonly env: NodeJS.ProcessEnv;
  readonly log: (line: string) => void;
}

/** Where the host listens, once it does. */
export interface HostAccess {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<internal port>`: the internal listener, when the part has an `internalPath`. */
  readonly internalUrl?: string;
  /** The system key the public paths of a part's API require. */
  readonly systemKey: string;
}

export interface HostPart {
  /** How the host names the part in its messages (see PART_FOR_KIND), e.g. "durable support". */
  readonly name: string;
  /** The function kinds it runs. */
  readonly kinds: readonly PartKind[];
  /** Input binding type → the value an input of that type receives at each invocation. */
  readonly inputs?: Readonly<Record<string, () => unknown>>;
  readonly httpApi?: PartHttpApi;
  register(registration: PartRegistration): void;
  listening?(access: HostAccess): void;
  /** Lines the host prints under its keys at start-up (how to reach the part). */
  banner?(access: HostAccess): readonly string[];
  start(): Promise<void>;
  stop(): Promise<void>;
}
