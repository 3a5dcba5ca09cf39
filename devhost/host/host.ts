/**
 * devhost's host core: hosts an unmodified function app directory as `func start` would.
 *
 * `startHost(options)`:
 *  1. copies `local.settings.json` Values into the environment (never overriding set variables) and
 *     reads host.json (route prefix, durable task hub and concurrency);
 *  2. loads the app entry (package.json `main`) with devhost's `@azure/functions-core`, and builds the
 *     function table (refusing duplicate names and unsupported trigger kinds);
 *  3. hands orchestrator and activity functions to the durable engine when one is given;
 *  4. serves HTTP functions on 127.0.0.1 (port 7071 by default; 0 picks a free one), sets
 *     WEBSITE_HOSTNAME to that address (durable-functions' client builds its URLs from it), runs the
 *     app's `appStart` hooks, starts the engine, then the timers (running `runOnStartup` ones);
 *  5. prints the function table and keys.
 *
 * `stop()` stops timers, the engine and the server, and runs the `appTerminate` hooks.
 * Errors while starting are DevhostErrors (see errors.ts); nothing is left listening.
 */
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { format } from 'node:util';
import type { InvocationContext } from '@azure/functions';
import type { DurableEngine } from '../durable/durable-api';
import {
  startServiceBusListeners,
  type ServiceBusListeners,
} from '../servicebus/triggers/service-bus-listeners';
import { resolveKeys, type HostKeys } from '../http/auth';
import {
  closeServer,
  createDurableRpcServer,
  createHttpServer,
  DURABLE_RPC_PREFIX,
  listen,
  type AdminRunResult,
} from '../http/http-server';
import { systemClock, type Clock } from '../common/clock';
import { TimerScheduler, type TimerInfo } from '../timers/timer-scheduler';
import { loadApp, type LoadedApp } from './app-loader';
import { appProcessEnv } from './functions-core';
import {
  buildFunctionTable,
  formatFunctionTable,
  howToCall,
  type HostedFunction,
  type HttpFunction,
  type ServiceBusFunction,
  type TimerFunction,
} from './function-table';
import { applyLocalSettings, readHostConfig, requireHubName, type HostConfig } from './host-config';

export const DEFAULT_PORT = 7071;
export const LOOPBACK = '127.0.0.1';

/** What the durable engine and the Durable HTTP API give the host (built in devhost/durable/). */
export interface DurableSupport {
  readonly engine: DurableEngine;
  /** Serves `/runtime/webhooks/durabletask/*`; resolves false for a path it does not serve. */
  readonly httpHandler: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => Promise<boolean>;
  /** The value a `durableClient` input receives (the extension's client binding data). */
  readonly clientBindingData: () => unknown;
  /**
   * Called once the host listens, before any request: where the SDK's calls go (`rpcBaseUrl`, the
   * host's internal listener) and the system key the webhook links carry as `code`.
   */
  readonly attach: (access: DurableAccess) => void;
}

export interface DurableAccess {
  /** `http://127.0.0.1:<internal port>/durabletask/` */
  readonly rpcBaseUrl: string;
  /** The `durabletask_extension` system key. */
  readonly systemKey: string;
}

export interface HostOptions {
  /** The function app directory (holds package.json, host.json). */
  readonly appDir: string;
  /** Overrides package.json `main` (path or glob relative to appDir), e.g. a TypeScript entry. */
  readonly entry?: string;
  /** Default 7071; 0 = a free port. */
  readonly port?: number;
  /** Given keys; generated when absent. A function key alone is also the master key. */
  readonly keys?: Partial<HostKeys>;
  readonly durable?: DurableSupport;
  readonly clock?: Clock;
  /** Where host and function logs go; default: stdout. */
  readonly log?: (line: string) => void;
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
  stop(): Promise<void>;
}

export async function startHost(options: HostOptions): Promise<DevHost> {
  const env = options.env ?? appProcessEnv();
  const log = options.log ?? ((line: string) => process.stdout.write(`${line}\n`));
  const clock = options.clock ?? systemClock;

  applyLocalSettings(options.appDir, env);
  const config = readHostConfig(options.appDir, env);
  const app = loadApp(options.appDir, options.entry === undefined ? {} : { entry: options.entry });
  const functions = buildFunctionTable(app.capture.registrations, env);
  const keys = resolveKeys(options.keys);
  const durable = options.durable;
  if (durable !== undefined) requireHubName(config);
  const invoker = new Invoker(app, durable, log);

  for (const fn of functions) {
    for (const binding of [...fn.extraInputs, ...fn.extraOutputs]) {
      if (binding.type !== 'durableClient') {
        log(
          `[devhost] warning: ${fn.name}: ${binding.type} binding "${binding.name}" is not supported by devhost; it stays empty`,
        );
      }
    }
    if (fn.kind === 'orchestration' || fn.kind === 'activity') {
      // A disabled one is not registered: the engine then fails its work as the extension does
      // ("The function 'X' doesn't exist, is disabled, or is not an activity function.").
      if (durable === undefined || fn.disabled) continue;
      if (fn.kind === 'orchestration')
        durable.engine.registerOrchestrator(fn.name, (input, ctx) => fn.handler(input, ctx));
      else durable.engine.registerActivity(fn.name, (input, ctx) => fn.handler(input, ctx));
    }
  }
  if (durable === undefined) {
    const durableNames = functions.filter((fn) => fn.kind === 'orchestration' || fn.kind === 'activity');
    const clientNames = functions.filter((fn) => fn.extraInputs.some((b) => b.type === 'durableClient'));
    if (durableNames.length > 0 || clientNames.length > 0) {
      log(
        '[devhost] durable support is not wired: orchestrations and activities do not run, and durableClient inputs ' +
          `get no client data (${[...durableNames, ...clientNames].map((fn) => fn.name).join(', ')})`,
      );
    }
  }

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
    if (fn === undefined) return { outcome: 'not_found' };
    if (fn.kind !== 'timer') return { outcome: 'not_supported', detail: howToCall(fn, config.routePrefix) };
    void input; // a timer's trigger value is the Timer object; the host ignores `input` for timers too
    // A disabled timer runs too: the admin API takes the master key, which runs disabled functions on Azure.
    const run = fn.disabled
      ? invoker.invoke(fn, adHocTimerInfo(fn, clock.now()))
      : timers.triggerNow(fn.name);
    void run.catch((error: unknown) => log(`[devhost] ${fn.name} failed: ${describeError(error)}`));
    return { outcome: 'accepted' };
  };

  const server = createHttpServer({
    routePrefix: config.routePrefix,
    keys,
    functions: functions.filter((fn): fn is HttpFunction => fn.kind === 'http'),
    azureFunctions: app.azureFunctions,
    httpStream: app.capture.httpStream === true,
    invoke: (fn, request) => invoker.invoke(fn, request),
    runFunction,
    ...(durable === undefined ? {} : { durableHandler: durable.httpHandler }),
    log,
  });
  const port = await listen(server, options.port ?? DEFAULT_PORT, LOOPBACK);
  const baseUrl = `http://${LOOPBACK}:${port}`;
  const apiUrl = config.routePrefix === '' ? baseUrl : `${baseUrl}/${config.routePrefix}`;
  env.WEBSITE_HOSTNAME = `${LOOPBACK}:${port}`;
  let rpcServer: Server | undefined;
  if (durable !== undefined) {
    rpcServer = createDurableRpcServer(durable.httpHandler, log);
    const rpcPort = await listen(rpcServer, 0, LOOPBACK).catch(async (error: unknown) => {
      await closeServer(server);
      throw error;
    });
    durable.attach({
      rpcBaseUrl: `http://${LOOPBACK}:${rpcPort}${DURABLE_RPC_PREFIX}`,
      systemKey: keys.systemKey,
    });
  }

  let serviceBus: ServiceBusListeners | undefined;
  try {
    await runHooks(app, 'appStart');
    await durable?.engine.run();
    await timers.start();
    const serviceBusFunctions = functions.filter(
      (fn): fn is ServiceBusFunction => fn.kind === 'serviceBus' && !fn.disabled,
    );
    if (serviceBusFunctions.length > 0) {
      serviceBus = await startServiceBusListeners({
        functions: serviceBusFunctions,
        env,
        config: config.serviceBus,
        invoke: (fn, trigger, metadata) => invoker.invoke(fn, trigger, metadata),
        log,
      });
    }
  } catch (error) {
    await timers.stop();
    await durable?.engine.stop();
    await closeServer(server);
    if (rpcServer !== undefined) await closeServer(rpcServer);
    throw error;
  }

  log(formatFunctionTable(functions, baseUrl, config.routePrefix));
  log('');
  log(`Function key: ${keys.functionKey}   (?code= or x-functions-key; the master key works too)`);
  log(`Master key:   ${keys.masterKey}   (admin functions, POST /admin/functions/{name})`);
  if (durable !== undefined) {
    log(
      `System key:   ${keys.systemKey}   (durabletask_extension: the Durable HTTP API; the master key works too)`,
    );
    log(
      `  e.g. curl -s '${baseUrl}/runtime/webhooks/durabletask/instances?code=${encodeURIComponent(keys.systemKey)}'`,
    );
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    baseUrl,
    apiUrl,
    keys,
    config,
    functions,
    runTimer: (name) => timers.triggerNow(name),
    stop: () =>
      (stopping ??= (async () => {
        await serviceBus?.stop();
        await timers.stop();
        await closeServer(server);
        if (rpcServer !== undefined) await closeServer(rpcServer);
        await durable?.engine.stop();
        await runHooks(app, 'appTerminate');
      })()),
  };
}

/** Builds each invocation's InvocationContext from the app's own @azure/functions and calls the handler. */
class Invoker {
  private warnedNoClient = false;

  constructor(
    private readonly app: LoadedApp,
    private readonly durable: DurableSupport | undefined,
    private readonly log: (line: string) => void,
  ) {}

  async invoke(
    fn: HostedFunction,
    trigger: unknown,
    triggerMetadata: Record<string, unknown> = {},
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
      logHandler: (level, ...args) =>
        this.log(`[${fn.name}] ${level === 'information' ? '' : `${level}: `}${format(...args)}`),
    });
    for (const input of fn.extraInputs) {
      if (input.type !== 'durableClient') continue;
      if (this.durable !== undefined) {
        context.extraInputs.set(input.name, this.durable.clientBindingData());
      } else if (!this.warnedNoClient) {
        this.warnedNoClient = true;
        this.log(`[devhost] ${fn.name}: no durable engine is wired, so the durableClient input is empty`);
      }
    }
    this.log(`[devhost] Executing '${fn.name}' (Reason='${reason(fn)}', Id=${invocationId})`);
    const result = await fn.handler(trigger as TimerInfo, context);
    this.log(`[devhost] Executed '${fn.name}' (Succeeded, Id=${invocationId})`);
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

async function runHooks(app: LoadedApp, name: 'appStart' | 'appTerminate'): Promise<void> {
  for (const hook of app.capture.hooks.filter((candidate) => candidate.name === name)) {
    await hook.callback({ hookData: {}, appHookData: {} });
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
