/**
 * The hosted functions as every part of devhost sees them: one descriptor per function kind, built
 * from the app's registrations by the host (host/function-table.ts) and handed to whatever runs that
 * kind: the HTTP server, the timer scheduler, or a part plugged into the host (common/host-parts.ts).
 *
 * The host runs HTTP and timer functions itself; every other kind is run by a part, and
 * `PART_FOR_KIND` / `PART_FOR_INPUT` name the part an app needs when it uses one that is not wired.
 */

/** The handler the app passed to `registerFunction`. */
export type UserHandler = (...args: unknown[]) => unknown;

export type AuthLevel = 'anonymous' | 'function' | 'admin';

/** A binding with its name, as InvocationContext.options lists it. */
export type NamedBinding = { readonly name: string; readonly type: string } & Record<string, unknown>;

/** A route template compiled by http/route-template.ts. */
export interface CompiledRoute {
  readonly template: string;
  /** One rank per segment; lower sorts first. */
  readonly precedence: readonly number[];
  match(path: string): Record<string, string> | undefined;
}

/** A timer schedule parsed by timers/schedule.ts. */
export interface Schedule {
  /** The expression after `%SETTING%` expansion. */
  readonly expression: string;
  readonly kind: 'cron' | 'interval';
  /** The first occurrence strictly after `after`. */
  next(after: Date): Date;
  /** Human-readable, for the function table. */
  describe(): string;
}

export interface FunctionBase {
  readonly name: string;
  readonly handler: UserHandler;
  readonly trigger: NamedBinding;
  readonly extraInputs: readonly NamedBinding[];
  readonly extraOutputs: readonly NamedBinding[];
  readonly returnBinding?: NamedBinding;
  /**
   * The app setting `AzureWebJobs.<name>.Disabled` is `true` or `1`: the host ignores the events that
   * would trigger it (an HTTP call answers 404 unless it carries the master key).
   */
  readonly disabled: boolean;
}

export interface HttpFunction extends FunctionBase {
  readonly kind: 'http';
  readonly route: CompiledRoute;
  /** Upper-case; undefined = every method. */
  readonly methods?: readonly string[];
  readonly authLevel: AuthLevel;
}

export interface TimerFunction extends FunctionBase {
  readonly kind: 'timer';
  readonly schedule: Schedule;
  readonly runOnStartup: boolean;
}

export interface DurableFunction extends FunctionBase {
  readonly kind: 'orchestration' | 'activity';
}

export interface ServiceBusFunction extends FunctionBase {
  readonly kind: 'serviceBus';
  /** `%SETTING%` expressions expanded. */
  readonly queueName?: string;
  readonly topicName?: string;
  readonly subscriptionName?: string;
  /** The app setting naming the namespace connection (the extension's default: AzureWebJobsServiceBus). */
  readonly connection: string;
  readonly cardinality: 'one' | 'many';
}

export type HostedFunction = HttpFunction | TimerFunction | DurableFunction | ServiceBusFunction;

export type FunctionKind = HostedFunction['kind'];

/** The kinds a part runs (the host runs `http` and `timer` itself). */
export type PartKind = Exclude<FunctionKind, 'http' | 'timer'>;

/** The part that runs each kind the host does not run itself, by the name the part gives itself. */
export const PART_FOR_KIND: Readonly<Record<PartKind, string>> = {
  orchestration: 'durable support',
  activity: 'durable support',
  serviceBus: 'Service Bus support',
};

/** The part that fills each input binding devhost supports, by the name the part gives itself. */
export const PART_FOR_INPUT: Readonly<Record<string, string>> = {
  durableClient: 'durable support',
};
