/**
 * devhost's implementation of `@azure/functions-core`, the module the Azure Functions Node worker
 * supplies to the app. `@azure/functions` (and durable-functions through it) requires that module
 * lazily and calls `registerFunction(metadata, handler)` for every registration, `registerHook` for
 * app/invocation hooks, `setProgrammingModel` once, and `log` for its own system logs.
 *
 * `@azure/functions` caches the module it finds for the whole process, so there is one core object
 * per process; it hands registrations to whichever capture is open (the app load in progress).
 *
 * The module is made resolvable through Node's own loader (`Module._load`), not a bundler or a test
 * runner's registry: `nativeModule()` finds the real `node:module` even when devhost itself runs
 * inside jest (whose `module` is a subclass of it).
 */
import * as nodeModule from 'node:module';
import type { UserHandler } from '../common/functions';

export const CORE_MODULE_NAME = '@azure/functions-core';

/** What `registerFunction` receives: `toCoreFunctionMetadata(name, options)`. */
export interface CoreFunctionMetadata {
  readonly name: string;
  readonly bindings: Record<string, CoreBinding>;
  readonly retryOptions?: unknown;
}

export interface CoreBinding {
  readonly type: string;
  readonly direction: 'in' | 'out' | 'inout' | string;
  readonly [property: string]: unknown;
}

export interface CapturedRegistration {
  readonly metadata: CoreFunctionMetadata;
  readonly handler: UserHandler;
}

export type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation' | 'log';
export type HookCallback = (context: unknown) => unknown;

export interface AppCapture {
  readonly registrations: CapturedRegistration[];
  readonly hooks: { readonly name: string; readonly callback: HookCallback }[];
  programmingModel?: unknown;
  /**
   * The app called `app.setup({ enableHttpStream: true })`. The library keeps that flag to itself and
   * reports it only through its system log ("HTTP streaming enabled."), so that is where it is read.
   */
  httpStream?: boolean;
}

interface Disposable {
  dispose(): void;
}

/**
 * One core per process. Its state hangs off Node's Module class (shared by every module registry,
 * including each jest test file's), because `@azure/functions` keeps the first core it was given.
 */
interface CoreState {
  openCapture?: AppCapture;
  /** Hooks may be registered after load (e.g. inside appStart); they go to the last capture. */
  lastCapture?: AppCapture;
  readonly api: object;
}

const STATE_KEY = Symbol.for('devhost.functions-core');
/** What `@azure/functions`' `app.setup` logs when it turns HTTP streaming on. */
const HTTP_STREAM_ENABLED = 'HTTP streaming enabled.';

function coreState(): CoreState {
  const holder = nativeModule() as unknown as Record<symbol, CoreState | undefined>;
  return (holder[STATE_KEY] ??= createCoreState());
}

function createCoreState(): CoreState {
  const state: CoreState = {
    api: {
      version: '3.10.1',
      hostVersion: '4.0.0-devhost',
      setProgrammingModel(model: unknown): void {
        const capture = state.openCapture ?? state.lastCapture;
        if (capture !== undefined) capture.programmingModel = model;
      },
      getProgrammingModel(): unknown {
        return (state.openCapture ?? state.lastCapture)?.programmingModel;
      },
      registerFunction(metadata: CoreFunctionMetadata, handler: UserHandler): Disposable {
        const capture = state.openCapture;
        if (capture === undefined) {
          throw new Error(
            `devhost: function "${metadata.name}" was registered after the app finished loading; register functions while the entry module loads`,
          );
        }
        const registration = { metadata, handler };
        capture.registrations.push(registration);
        return { dispose: () => remove(capture.registrations, registration) };
      },
      registerHook(name: string, callback: HookCallback): Disposable {
        const capture = state.openCapture ?? state.lastCapture;
        const hook = { name, callback };
        capture?.hooks.push(hook);
        return { dispose: () => (capture === undefined ? undefined : remove(capture.hooks, hook)) };
      },
      log(level: string, category: string, message: string): void {
        if (category === 'system' && message === HTTP_STREAM_ENABLED) {
          const capture = state.openCapture ?? state.lastCapture;
          if (capture !== undefined) capture.httpStream = true;
        }
        if (level === 'error' || level === 'critical' || level === 'warning') {
          process.stderr.write(`[worker ${category}] ${level}: ${message}\n`);
        }
      },
    },
  };
  return state;
}

function remove<T>(list: T[], item: T): void {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
}

interface NativeModule {
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _cache: Record<string, unknown>;
  _extensions: Record<
    string,
    (module: { _compile(code: string, filename: string): void }, filename: string) => void
  >;
  createRequire(filename: string): NodeJS.Require;
}

/** Node's own Module class (jest hands out a subclass of it as `module`). */
export function nativeModule(): NativeModule {
  let candidate: unknown = (nodeModule as unknown as { Module?: unknown }).Module ?? nodeModule;
  for (;;) {
    const parent: unknown = Object.getPrototypeOf(candidate);
    if (typeof parent !== 'function' || parent === Function.prototype) break;
    if (typeof (parent as Partial<NativeModule>)._load !== 'function') break;
    candidate = parent;
  }
  return candidate as NativeModule;
}

const INSTALLED_KEY = Symbol.for('devhost.functions-core.installed');

/** Makes `require('@azure/functions-core')` return devhost's core object, process-wide. Idempotent. */
export function installFunctionsCore(): void {
  const native = nativeModule() as NativeModule & Record<symbol, boolean | undefined>;
  if (native[INSTALLED_KEY] === true) return;
  const originalLoad = native._load;
  native._load = function load(this: unknown, request: string, parent: unknown, isMain: boolean): unknown {
    if (request === CORE_MODULE_NAME) return coreState().api;
    return originalLoad.call(this, request, parent, isMain);
  };
  native[INSTALLED_KEY] = true;
}

/**
 * Runs `load` (which requires the app entry) with a capture open, and returns what it registered.
 * Loads do not nest: the capture is global for the duration of `load`.
 */
export function captureRegistrations(load: () => void): AppCapture {
  installFunctionsCore();
  const state = coreState();
  if (state.openCapture !== undefined) throw new Error('devhost: an app is already loading');
  const capture: AppCapture = { registrations: [], hooks: [] };
  state.openCapture = capture;
  try {
    load();
  } finally {
    state.openCapture = undefined;
    state.lastCapture = capture;
  }
  return capture;
}

/**
 * The environment the hosted app reads: the real `process.env` (under jest, devhost's own `process`
 * is a per-test-file copy, while the app runs in Node's main context).
 */
export function appProcessEnv(): NodeJS.ProcessEnv {
  const realProcess = nativeModule().createRequire(__filename)('node:process') as NodeJS.Process;
  return realProcess.env;
}
