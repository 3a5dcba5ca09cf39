/**
 * Turns captured registrations into the hosted function table (the descriptors of
 * common/functions.ts), refusing what the Functions host would refuse (two functions with one name)
 * and what devhost does not host (a trigger kind outside SUPPORTED_TRIGGERS, a session-enabled
 * Service Bus trigger), with errors naming the function and the kind.
 * `formatFunctionTable` prints it the way `func start` lists functions.
 */
import { compileRoute, RouteTemplateError } from '../http/route-template';
import { parseSchedule } from '../timers/schedule';
import { DevhostError } from '../common/errors';
import type {
  CompiledRoute,
  FunctionBase,
  HostedFunction,
  HttpFunction,
  NamedBinding,
  ServiceBusFunction,
  UserHandler,
} from '../common/functions';
import { expandSettings } from '../common/host-config';
import type { CapturedRegistration, CoreBinding } from './functions-core';

export const SUPPORTED_TRIGGERS = [
  'httpTrigger',
  'timerTrigger',
  'orchestrationTrigger',
  'activityTrigger',
  'serviceBusTrigger',
] as const;

/** Kinds with an issue that adds them; the message says so instead of "unsupported". */
const PLANNED_TRIGGERS: Record<string, string> = {};

export function buildFunctionTable(
  registrations: readonly CapturedRegistration[],
  env: NodeJS.ProcessEnv = process.env,
): HostedFunction[] {
  const seen = new Set<string>();
  const table: HostedFunction[] = [];
  for (const { metadata, handler } of registrations) {
    const key = metadata.name.toLowerCase();
    if (seen.has(key)) {
      throw new DevhostError(
        'duplicate_function',
        `two functions are named "${metadata.name}" (function names are case-insensitive and must be unique)`,
      );
    }
    seen.add(key);
    table.push(toHostedFunction(metadata.name, metadata.bindings, handler, env));
  }
  return table;
}

/**
 * `AzureWebJobs.<name>.Disabled` as the host reads it: `true` (any case) or `1`. Looked up
 * case-insensitively, as app settings are on Windows and in local.settings.json.
 */
export function isDisabled(name: string, env: NodeJS.ProcessEnv): boolean {
  const wanted = `azurewebjobs.${name}.disabled`.toLowerCase();
  const setting = Object.keys(env).find((key) => key.toLowerCase() === wanted);
  const value = setting === undefined ? undefined : env[setting]?.trim().toLowerCase();
  return value === 'true' || value === '1';
}

function toHostedFunction(
  name: string,
  bindings: Record<string, CoreBinding>,
  handler: UserHandler,
  env: NodeJS.ProcessEnv,
): HostedFunction {
  const named = Object.entries(bindings).map(([bindingName, binding]) => toNamed(bindingName, binding));
  const triggers = named.filter((binding) => binding.type.endsWith('Trigger'));
  if (triggers.length !== 1) {
    throw new DevhostError('invalid_function', `function "${name}" must have exactly one trigger binding`);
  }
  const trigger = triggers[0] as NamedBinding;
  const inputs = named.filter((binding) => binding !== trigger && bindings[binding.name]?.direction === 'in');
  const outputs = named.filter((binding) => bindings[binding.name]?.direction === 'out');
  const returnBinding = outputs.find((binding) => binding.name === '$return');
  const base: FunctionBase = {
    name,
    handler,
    trigger,
    extraInputs: inputs,
    extraOutputs: outputs.filter((binding) => binding.name !== '$return'),
    ...(returnBinding === undefined ? {} : { returnBinding }),
    disabled: isDisabled(name, env),
  };
  switch (trigger.type) {
    case 'httpTrigger':
      return toHttpFunction(base, trigger);
    case 'timerTrigger': {
      if (typeof trigger.schedule !== 'string') {
        throw new DevhostError('invalid_schedule', `timer function "${name}" has no schedule`);
      }
      return {
        ...base,
        kind: 'timer',
        schedule: parseSchedule(name, trigger.schedule, env),
        runOnStartup: trigger.runOnStartup === true,
      };
    }
    case 'orchestrationTrigger':
      return { ...base, kind: 'orchestration' };
    case 'activityTrigger':
      return { ...base, kind: 'activity' };
    case 'serviceBusTrigger':
      return toServiceBusFunction(base, trigger, env);
    default: {
      const planned = PLANNED_TRIGGERS[trigger.type];
      throw new DevhostError(
        'unsupported_trigger',
        `function "${name}" uses a ${trigger.type}, which devhost does not host yet` +
          (planned === undefined ? '' : `: ${planned}`) +
          ` (supported: ${SUPPORTED_TRIGGERS.join(', ')})`,
      );
    }
  }
}

function toServiceBusFunction(
  base: FunctionBase,
  trigger: NamedBinding,
  env: NodeJS.ProcessEnv,
): ServiceBusFunction {
  const setting = (property: 'queueName' | 'topicName' | 'subscriptionName'): string | undefined => {
    const raw = trigger[property];
    if (typeof raw !== 'string' || raw === '') return undefined;
    const expanded = expandSettings(raw, env);
    if (/%[^%]+%/.test(expanded)) {
      throw new DevhostError(
        'invalid_function',
        `function "${base.name}": ${property} "${raw}" names a setting that is not set`,
      );
    }
    return expanded;
  };
  const queueName = setting('queueName');
  const topicName = setting('topicName');
  const subscriptionName = setting('subscriptionName');
  if (queueName === undefined && (topicName === undefined || subscriptionName === undefined)) {
    throw new DevhostError(
      'invalid_function',
      `function "${base.name}": a Service Bus trigger needs queueName, or topicName and subscriptionName`,
    );
  }
  if (trigger.isSessionsEnabled === true) {
    throw new DevhostError(
      'unsupported_trigger',
      `function "${base.name}": session-enabled Service Bus triggers are not supported by devhost`,
    );
  }
  return {
    ...base,
    kind: 'serviceBus',
    ...(queueName === undefined ? {} : { queueName }),
    ...(topicName === undefined ? {} : { topicName }),
    ...(subscriptionName === undefined ? {} : { subscriptionName }),
    connection:
      typeof trigger.connection === 'string' && trigger.connection !== ''
        ? trigger.connection
        : 'AzureWebJobsServiceBus',
    cardinality: trigger.cardinality === 'many' ? 'many' : 'one',
  };
}

function toHttpFunction(base: FunctionBase, trigger: NamedBinding): HttpFunction {
  const template = typeof trigger.route === 'string' && trigger.route !== '' ? trigger.route : base.name;
  let route: CompiledRoute;
  try {
    route = compileRoute(template);
  } catch (error) {
    if (error instanceof RouteTemplateError) {
      throw new DevhostError('invalid_function', `function "${base.name}": ${error.message}`, {
        cause: error,
      });
    }
    throw error;
  }
  const methods = Array.isArray(trigger.methods)
    ? (trigger.methods as unknown[]).map((method) => String(method).toUpperCase())
    : undefined;
  const level = String(trigger.authLevel ?? 'function').toLowerCase();
  if (level !== 'anonymous' && level !== 'function' && level !== 'admin') {
    throw new DevhostError('invalid_function', `function "${base.name}": unknown authLevel "${level}"`);
  }
  return {
    ...base,
    kind: 'http',
    route,
    ...(methods === undefined || methods.length === 0 ? {} : { methods }),
    authLevel: level,
  };
}

function toNamed(name: string, binding: CoreBinding): NamedBinding {
  const { direction: _direction, properties: _properties, ...rest } = binding;
  return { ...rest, name, type: binding.type };
}

/** One line per function, as `func start` prints them. */
export function formatFunctionTable(
  functions: readonly HostedFunction[],
  baseUrl: string,
  routePrefix: string,
): string {
  const lines = ['Functions:', ''];
  for (const fn of functions) {
    switch (fn.kind) {
      case 'http': {
        const methods = fn.methods === undefined ? 'ALL' : fn.methods.join(',');
        const path = [routePrefix, fn.route.template].filter((part) => part !== '').join('/');
        lines.push(`\t${fn.name}: [${methods}] ${baseUrl}/${path}  (authLevel ${fn.authLevel})`);
        break;
      }
      case 'timer':
        lines.push(
          `\t${fn.name}: timerTrigger (${fn.schedule.describe()}${fn.runOnStartup ? ', runOnStartup' : ''})`,
        );
        break;
      case 'orchestration':
        lines.push(`\t${fn.name}: orchestrationTrigger`);
        break;
      case 'activity':
        lines.push(`\t${fn.name}: activityTrigger`);
        break;
      case 'serviceBus': {
        const entity = fn.queueName ?? `${fn.topicName}/Subscriptions/${fn.subscriptionName}`;
        lines.push(
          `\t${fn.name}: serviceBusTrigger (${entity}, ${fn.connection}, cardinality ${fn.cardinality})`,
        );
        break;
      }
    }
    if (fn.disabled) lines[lines.length - 1] += '  [disabled: AzureWebJobs.' + fn.name + '.Disabled]';
  }
  return lines.join('\n');
}

/**
 * How a user calls a function devhost's admin API does not run (it runs timers), e.g.
 * `health is an HTTP function: call GET /api/health`.
 */
export function howToCall(fn: HostedFunction, routePrefix: string): string {
  switch (fn.kind) {
    case 'http': {
      const methods = fn.methods === undefined ? 'GET' : fn.methods.join('|');
      const path = [routePrefix, fn.route.template].filter((part) => part !== '').join('/');
      return `${fn.name} is an HTTP function: call ${methods} /${path}`;
    }
    case 'timer':
      return `${fn.name} is a timer function: run it with POST /admin/functions/${fn.name}`;
    case 'orchestration':
      return `${fn.name} is an orchestrator function: start it with POST /runtime/webhooks/durabletask/orchestrators/${fn.name} (system key)`;
    case 'activity':
      return `${fn.name} is an activity function: an orchestration calls it`;
    case 'serviceBus': {
      const entity =
        fn.queueName !== undefined
          ? `queue ${fn.queueName}`
          : `topic ${fn.topicName} (subscription ${fn.subscriptionName})`;
      return `${fn.name} is a Service Bus function: send a message to ${entity}`;
    }
    default: {
      const unexpected: never = fn;
      throw new Error(`unknown function kind ${JSON.stringify(unexpected)}`);
    }
  }
}
