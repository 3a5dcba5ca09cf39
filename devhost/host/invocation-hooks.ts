/**
 * Runs the app's hooks (`app.hook.appStart`, `appTerminate`, `preInvocation`, `postInvocation` of
 * `@azure/functions` v4) as the Azure Functions Node worker runs them. `@azure/functions` only
 * registers them (through `@azure/functions-core`'s `registerHook`) and wraps the core context it is
 * given in its own hook context classes; the worker builds those core contexts and calls the hooks,
 * so devhost, standing in for the worker, does both:
 *
 * - every invocation (whatever its trigger: HTTP, timer, Service Bus, orchestrator, activity) runs
 *   the `preInvocation` hooks, in registration order and each awaited, with the invocation context,
 *   the trigger inputs and the function's handler; a hook may replace `inputs` and `functionHandler`
 *   (what is then called). The handler is called with the inputs and the context; the
 *   `postInvocation` hooks then see `inputs`, `result` and `error` (the handler's error, or null),
 *   and may change `result` and `error`: the invocation fails with `error` when it is not null or
 *   undefined after them, else it returns `result`;
 * - a hook that throws fails the invocation (no later hook nor the handler runs);
 * - `hookData` is one object per invocation, shared by its pre and post hooks; `appStart` and
 *   `appTerminate` share an app-level `hookData`; `appHookData` (on the core context only: the v4
 *   library does not expose it) is one object for the app's lifetime, seen by every hook.
 *
 * Hooks registered later (e.g. inside an appStart hook) or disposed take effect from the next
 * invocation, as the hook list is read each time.
 */
import type { UserHandler } from '../common/functions';
import type { AppCapture } from './functions-core';

type HookName = 'appStart' | 'appTerminate' | 'preInvocation' | 'postInvocation';

export interface InvocationHooks {
  /** `handler` wrapped so that every call, `(...inputs, context)`, runs the invocation hooks around it. */
  wrap(handler: UserHandler): UserHandler;
  appStart(functionAppDirectory: string): Promise<void>;
  appTerminate(): Promise<void>;
}

export function invocationHooks(capture: AppCapture): InvocationHooks {
  const appHookData: Record<string, unknown> = {};
  const appLevelHookData: Record<string, unknown> = {};
  const run = async (name: HookName, context: object): Promise<void> => {
    for (const hook of capture.hooks.filter((candidate) => candidate.name === name)) {
      await hook.callback(context);
    }
  };
  const has = (name: HookName): boolean => capture.hooks.some((hook) => hook.name === name);
  const shared = (hookData: Record<string, unknown>): PropertyDescriptorMap => ({
    hookData: readOnly('hookData', hookData),
    appHookData: readOnly('appHookData', appHookData),
  });

  return {
    wrap: (handler) =>
      async function withHooks(...args: unknown[]): Promise<unknown> {
        if (!has('preInvocation') && !has('postInvocation')) return handler(...args);
        const invocationContext = args.at(-1);
        const hookData: Record<string, unknown> = {};
        const pre = Object.defineProperties(
          { functionCallback: handler, inputs: args.slice(0, -1) },
          { ...shared(hookData), invocationContext: readOnly('invocationContext', invocationContext) },
        ) as { functionCallback: UserHandler; inputs: unknown[] };
        await run('preInvocation', pre);
        const post = Object.defineProperties(
          { inputs: pre.inputs, result: null as unknown, error: null as unknown },
          { ...shared(hookData), invocationContext: readOnly('invocationContext', invocationContext) },
        );
        try {
          post.result = await pre.functionCallback(...pre.inputs, invocationContext);
        } catch (error) {
          post.error = error;
        }
        await run('postInvocation', post);
        if (post.error !== null && post.error !== undefined) throw post.error;
        return post.result;
      },
    appStart: (functionAppDirectory) =>
      run('appStart', Object.defineProperties({ functionAppDirectory }, shared(appLevelHookData))),
    appTerminate: () => run('appTerminate', Object.defineProperties({}, shared(appLevelHookData))),
  };
}

/** A property whose value the hooks use but may not replace, as the worker's contexts do. */
function readOnly(name: string, value: unknown): PropertyDescriptor {
  return {
    enumerable: true,
    get: () => value,
    set: () => {
      throw new Error(`Cannot assign to read only property '${name}'`);
    },
  };
}
