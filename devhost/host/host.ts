/**
 * devhost's host core: hosts an unmodified function app directory as `func start` would. It runs
 * HTTP and timer functions itself; every other kind is run by a part handed to it
 * (common/host-parts.ts: durable support, Service Bus support), which it knows only by that contract.
 *
 * `startHost(options)`:
 *  1. copies `local.settings.json` Values into the environment (never overriding set variables) and
 *     reads host.json (route prefix, durable task hub and concurrency, Service Bus settings);
 *  2. loads the app entry (package.json `main`) with devhost's `@azure/functions-core`, and builds the
 *     function table (refusing duplicate names and unsupported trigger kinds);
 *  3. hands each part the enabled functions of the kinds it runs (`register`), and says which
 *     functions need a part that is not wired;
 *  4. serves HTTP functions and the parts' HTTP APIs on 127.0.0.1 (port 7071 by default; 0 picks a
 *     free one; the parts' internal paths on a second loopback port), sets WEBSITE_HOSTNAME to that
 *     address (durable-functions' client builds its URLs from it), tells the parts (`listening`),
 *     runs the app's `appStart` hooks, then starts the parts serving an API, the timers (running
 *     `runOnStartup` ones) and the other parts;
 *  5. prints the function table and keys.
 *
 * Every invocation, whoever makes it (HTTP, a timer, a part), runs the app's preInvocation and
 * postInvocation hooks around the handler (host/invocation-hooks.ts), and its InvocationContext
 * carries a W3C `traceContext` (common/trace-context.ts): an HTTP request's continues its
 * `traceparent`/`tracestate` headers, a part passes its trigger's parent (`InvokeFunction`'s
 * `parentTrace`), any other starts a new trace. Every invocation is also counted, with its wall
 * duration, by function and trigger kind (common/execution-stats.ts; GET /admin/host/executions).
 *
 * `stop()` stops the parts that bring events in, the timers, the servers, the parts serving an API,
 * and runs the `appTerminate` hooks. Errors while starting are DevhostErrors (common/errors.ts);
 * nothing is left listening.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { format } from 'node:util';
import type { InvocationContext } from '@azure/functions';
import { systemClock, type Clock } from '../common/clock';
import { DevhostError } from '../common/errors';
import {
  PART_FOR_INPUT,
  PART_FOR_KIND,
  type HostedFunction,
  type HttpFunction,
  type PartKind,
  type TimerFunction,
} from '../common/functions';
import { applyLocalSettings, readHostConfig, type HostConfig } from '../common/host-config';
import type {
  HostAccess,
  HostPart,
  InvocationOptions,
  InvokeFunction,
  PartHttpApi,
} from '../common/host-parts';
import { invocationTraceContext } from '../common/trace-context';
import { resolveKeys, type HostKeys } from '../http/auth';
import {
  closeServer,
  createHttpServer,
  createInternalServer,
  listen,
  type AdminRunResult,
} from '../http/http-server';
import { TimerScheduler, type TimerInfo } from '../timers/timer-scheduler';
import { loadApp, type LoadedApp } from './app-loader';
import { appProcessEnv } from './functions-core';
import { ExecutionStats, type ExecutionSnapshot } from '../common/execution-stats';
import { buildFunctionTable, formatFunctionTable, howToCall } from './function-table';
import { invocationHooks } from './invocation-hooks';

export const DEFAULT_PORT = 7071;
export const LOOPBACK = '127.0.0.1';

export interface HostOptions {
  /** The function app directory (holds package.json, host.json). */
  readonly appDir: string;
  /** Overrides package.json `main` (path or glob relative to appDir), e.g. a TypeScript entry. */
  readonly entry?: string;
  /** Default 7071; 0 = a free port. */
  readonly port?: number;
  /** Given keys; generated when absent. A function key alone is also the master key. */
  readonly keys?: Partial<HostKeys>;
  /** What runs the kinds the host does not run itself (no two parts may run one kind). */
  readonly parts?: readonly HostPart[];
  readonly clock?: Clock;
  /** Where host and function logs go; default: stdout. */
  readonly log?: (line: string) => void;
  /**
   * The `Executing`/`Executed (Succeeded)` line of every invocation, as `func start` prints them
   * (default true); a failed invocation's line is always logged.
   */
  readonly invocationLines?: boolean;
  /** Default: the process environment the app reads; local settings are applied to it. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface DevHost {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  /** `http://127.0.0.1:<port>/<routePrefix>` */
  readonly apiUrl: string;
  readonly keys: HostKeys;
  readonly config: HostConfig;
  readonly functions: readonly HostedFunction[];
  /** Runs a timer function now (as the admin endpoint does) and resolves when it finished. */
  runTimer(name: string): Promise<boolean>;
  /** The executions so far, by function and kind (as GET /admin/host/executions answers). */
  executions(): ExecutionSnapshot;
  stop(): Promise<void>;
}

export async function startHost(options: HostOptions): Promise<DevHost> {
  const env = options.env ?? appProcessEnv();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? systemClock;
  const parts = options.parts ?? [];
  refuseSharedKinds(parts);

  applyLocalSettings(options.appDir, env);
  const config = readHostConfig(options.appDir, env);
  const app = loadApp(options.appDir, options.entry === undefined ? {} : { entry: options.entry });
  const hooks = invocationHooks(app.capture);
  const stats = new ExecutionStats();
  // Every handler runs the app's invocation hooks, and is counted, whoever invokes it (the host or a part).
  const functions = buildFunctionTable(app.capture.registrations, env).map((fn): HostedFunction => ({
    ...fn,
    handler: stats.wrap(fn.name, fn.kind, hooks.wrap(fn.handler)),
  }));
  const keys = resolveKeys(options.keys);
  const invoker = new Invoker(app, parts, env, log, options.invocationLines ?? true);
  const invoke: InvokeFunction = (fn, trigger, metadata, invocation) =>
    invoker.invoke(fn, trigger, metadata, invocation);

  for (const fn of functions) {
    for (const binding of [...fn.extraInputs, ...fn.extraOutputs]) {
      if (PART_FOR_INPUT[binding.type] === undefined) {
        log(
          `[devhost] warning: ${fn.name}: ${binding.type} binding "${binding.name}" is not supported by devhost; it stays empty`,
        );
      }
    }
  }
  for (const part of parts) {
    // A disabled function is not handed over: e.g. the durable engine then fails its work as the
    // extension does ("The function 'X' doesn't exist, is disabled, or is not an activity function.").
    const own = functions.filter((fn) => (part.kinds as readonly string[]).includes(fn.kind) && !fn.disabled);
    part.register({ functions: own, invoke, config, env, log });
  }
  for (const line of missingParts(functions, parts)) log(line);

  const timers = new TimerScheduler(clock, async (name, info) => {
    const fn = functions.find((candidate) => candidate.name === name);
    if (fn === undefined) return;
    try {
      await invoker.invoke(fn, info);
    } catch (error) {
      log(`[devhost] Executed '${name}' (Failed): ${describeError(error)}`);
    }
  });
  for (const fn of functions) {
    if (fn.kind === 'timer' && !fn.disabled)
      timers.add({ name: fn.name, schedule: fn.schedule, runOnStartup: fn.runOnStartup });
  }

  const runFunction = (name: string, input: unknown): AdminRunResult => {
    const fn = functions.find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (fn === undefined) {
      const timerNames = functions.filter((candidate) => candidate.kind === 'timer').map((t) => t.name);
      const known =
        timerNames.length === 0
          ? 'the app has no timer functions'
          : `its timer functions: ${timerNames.join(', ')}`;
      return { outcome: 'not_found', detail: `no function is named "${name}"; ${known}` };
    }
    if (fn.kind !== 'timer') return { outcome: 'not_supported', detail: howToCall(fn, config.routePrefix) };
    void input; // a timer's trigger value is the Timer object; the host ignores `input` for timers too
    // A disabled timer runs too: the admin API takes the master key, which runs disabled functions on Azure.
    const run = fn.disabled
      ? invoker.invoke(fn, adHocTimerInfo(fn, clock.now()))
      : timers.triggerNow(fn.name);
    void run.catch((error: unknown) => log(`[devhost] ${fn.name} failed: ${describeError(error)}`));
    return { outcome: 'accepted' };
  };

  const apis = parts.flatMap((part): PartHttpApi[] => (part.httpApi === undefined ? [] : [part.httpApi]));
  const server = createHttpServer({
    routePrefix: config.routePrefix,
    keys,
    functions: functions.filter((fn): fn is HttpFunction => fn.kind === 'http'),
    azureFunctions: app.azureFunctions,
    httpStream: app.capture.httpStream === true,
    invoke: (fn, request) =>
      invoker.invoke(
        fn,
        request,
        {},
        {
          parentTrace: {
            ...optional('traceParent', request.headers.get('traceparent')),
            ...optional('traceState', request.headers.get('tracestate')),
          },
        },
      ),
    runFunction,
    executions: () => stats.snapshot(),
    apis,
    log,
  });
  const port = await listen(server, options.port ?? DEFAULT_PORT, LOOPBACK);
  const baseUrl = `http://${LOOPBACK}:${port}`;
  const apiUrl = config.routePrefix === '' ? baseUrl : `${baseUrl}/${config.routePrefix}`;
  env.WEBSITE_HOSTNAME = `${LOOPBACK}:${port}`;
  let internalServer: Server | undefined;
  let internalUrl: string | undefined;
  if (apis.some((api) => api.internalPath !== undefined)) {
    internalServer = createInternalServer(apis, log);
    const internalPort = await listen(internalServer, 0, LOOPBACK).catch(async (error: unknown) => {
      await closeServer(server);
      throw error;
    });
    internalUrl = `http://${LOOPBACK}:${internalPort}`;
  }
  const access: HostAccess = {
    baseUrl,
    systemKey: keys.systemKey,
    ...(internalUrl === undefined ? {} : { internalUrl }),
  };
  for (const part of parts) part.listening?.(access);

  // Parts serving an API start before the timers and stop after the servers; the others (they only
  // bring events in) start after the timers and stop first.
  const services = parts.filter((part) => part.httpApi !== undefined);
  const sources = parts.filter((part) => part.httpApi === undefined);
  const closeServers = async (): Promise<void> => {
    await closeServer(server);
    if (internalServer !== undefined) await closeServer(internalServer);
  };
  const startedServices: HostPart[] = [];
  const startedSources: HostPart[] = [];
  try {
    await hooks.appStart(app.appDir);
    for (const part of services) {
      startedServices.push(part);
      await part.start();
    }
    await timers.start();
    for (const part of sources) {
      startedSources.push(part);
      await part.start();
    }
  } catch (error) {
    await stopAll(startedSources);
    await timers.stop();
    await closeServers();
    await stopAll(startedServices);
    throw error;
  }

  log(formatFunctionTable(functions, baseUrl, config.routePrefix));
  log('');
  log(`Function key: ${keys.functionKey}   (?code= or x-functions-key; the master key works too)`);
  log(
    `Master key:   ${keys.masterKey}   (admin functions, POST /admin/functions/{name}; GET /admin/host/executions)`,
  );
  for (const api of apis) {
    log(`System key:   ${keys.systemKey}   (${api.keyName}: ${api.title}; the master key works too)`);
  }
  for (const part of parts) for (const line of part.banner?.(access) ?? []) log(line);

  let stopping: Promise<void> | undefined;
  return {
    port,
    baseUrl,
    apiUrl,
    keys,
    config,
    functions,
    runTimer: (name) => timers.triggerNow(name),
    executions: () => stats.snapshot(),
    stop: () =>
      (stopping ??= (async () => {
        await stopAll(sources);
        await timers.stop();
        await closeServers();
        await stopAll(services);
        await hooks.appTerminate();
      })()),
  };
}

/** Two parts running one kind would each take its events: refused before anything starts. */
function refuseSharedKinds(parts: readonly HostPart[]): void {
  const owner = new Map<PartKind, string>();
  for (const part of parts) {
    for (const kind of part.kinds) {
      const other = owner.get(kind);
      if (other !== undefined) {
        throw new DevhostError(
          'invalid_usage',
          `${other} and ${part.name} both run ${kind} functions; wire one`,
        );
      }
      owner.set(kind, part.name);
    }
  }
}

/**
 * One line per part the app needs and nobody wired, naming what does not run and the functions
 * concerned, e.g. "durable support is not wired: orchestration and activity functions do not run,
 * and durableClient inputs stay empty (start, sweep)".
 */
function missingParts(functions: readonly HostedFunction[], parts: readonly HostPart[]): string[] {
  const wired = new Set(parts.map((part) => part.name));
  const needed = new Map<string, string[]>();
  for (const fn of functions) {
    const names = new Set<string>();
    if (fn.kind !== 'http' && fn.kind !== 'timer') names.add(PART_FOR_KIND[fn.kind]);
    for (const input of fn.extraInputs) {
      const name = PART_FOR_INPUT[input.type];
      if (name !== undefined) names.add(name);
    }
    for (const name of names) {
      if (!wired.has(name)) needed.set(name, [...(needed.get(name) ?? []), fn.name]);
    }
  }
  return [...needed].map(([name, fns]) => {
    const kinds = Object.keys(PART_FOR_KIND).filter((kind) => PART_FOR_KIND[kind as PartKind] === name);
    const inputs = Object.keys(PART_FOR_INPUT).filter((type) => PART_FOR_INPUT[type] === name);
    const what = [
      ...(kinds.length === 0 ? [] : [`${joinWords(kinds)} functions do not run`]),
      ...(inputs.length === 0 ? [] : [`${joinWords(inputs)} inputs stay empty`]),
    ].join(', and ');
    return `[devhost] ${name} is not wired: ${what} (${fns.join(', ')})`;
  });
}

function joinWords(words: readonly string[]): string {
  return words.length <= 1
    ? words.join('')
    : `${words.slice(0, -1).join(', ')} and ${words.at(-1) as string}`;
}

async function stopAll(parts: readonly HostPart[]): Promise<void> {
  for (const part of [...parts].reverse()) await part.stop();
}

/** Builds each invocation's InvocationContext from the app's own @azure/functions and calls the handler. */
class Invoker {
  /** Input binding types already reported empty (once each). */
  private readonly warnedEmpty = new Set<string>();
  private readonly inputs: ReadonlyMap<string, () => unknown>;

  constructor(
    private readonly app: LoadedApp,
    parts: readonly HostPart[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly log: (line: string) => void,
    private readonly invocationLines: boolean,
  ) {
    this.inputs = new Map(parts.flatMap((part) => Object.entries(part.inputs ?? {})));
  }

  async invoke(
    fn: HostedFunction,
    trigger: unknown,
    triggerMetadata: Record<string, unknown> = {},
    invocation: InvocationOptions = {},
  ): Promise<unknown> {
    const invocationId = randomUUID();
    const { InvocationContext } = this.app.azureFunctions;
    const context: InvocationContext = new InvocationContext({
      invocationId,
      functionName: fn.name,
      options: {
        trigger: fn.trigger as InvocationContext['options']['trigger'],
        extraInputs: fn.extraInputs as InvocationContext['options']['extraInputs'],
        extraOutputs: fn.extraOutputs as InvocationContext['options']['extraOutputs'],
        ...(fn.returnBinding === undefined
          ? {}
          : { return: fn.returnBinding as InvocationContext['options']['return'] }),
      },
      triggerMetadata,
      traceContext: invocationTraceContext(fn.name, invocation.parentTrace, this.env),
      logHandler: (level, ...args) =>
        this.log(`[${fn.name}] ${level === 'information' ? '' : `${level}: `}${format(...args)}`),
    });
    for (const input of fn.extraInputs) {
      const part = PART_FOR_INPUT[input.type];
      if (part === undefined) continue;
      const value = this.inputs.get(input.type);
      if (value !== undefined) {
        context.extraInputs.set(input.name, value());
      } else if (!this.warnedEmpty.has(input.type)) {
        this.warnedEmpty.add(input.type);
        this.log(`[devhost] ${fn.name}: ${part} is not wired, so the ${input.type} input is empty`);
      }
    }
    if (this.invocationLines)
      this.log(`[devhost] Executing '${fn.name}' (Reason='${reason(fn)}', Id=${invocationId})`);
    const result = await fn.handler(trigger as TimerInfo, context);
    if (this.invocationLines) this.log(`[devhost] Executed '${fn.name}' (Succeeded, Id=${invocationId})`);
    return result;
  }
}

/** The Timer object of a run outside the schedule (a disabled timer run through the admin API). */
function adHocTimerInfo(fn: TimerFunction, now: Date): TimerInfo {
  return {
    isPastDue: false,
    schedule: { adjustForDST: fn.schedule.kind === 'cron' },
    scheduleStatus: {
      last: now.toISOString(),
      next: fn.schedule.next(now).toISOString(),
      lastUpdated: now.toISOString(),
    },
  };
}

function reason(fn: HostedFunction): string {
  switch (fn.kind) {
    case 'http':
      return 'This function was programmatically called via the host APIs.';
    case 'timer':
      return 'Timer fired';
    case 'serviceBus':
      return 'New Service Bus message detected';
    default:
      return fn.kind;
  }
}

/** `{ [name]: value }` when there is a value, else nothing. */
function optional(name: string, value: string | null): Record<string, string> {
  return value === null ? {} : { [name]: value };
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
