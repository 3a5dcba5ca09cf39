/**
 * Hands the durable registrations of an app to an engine: what `@azure/functions` passed to
 * `registerFunction(metadata, handler)` for `df.app.orchestration` (trigger type
 * `orchestrationTrigger`) and `df.app.activity` (`activityTrigger`). Other registrations are skipped.
 */
import type { DurableEngine, DurableTriggerHandler } from '../durable-api';

export interface FunctionRegistration {
  readonly metadata: {
    readonly name: string;
    readonly bindings?: Record<string, { readonly type?: string }>;
  };
  readonly handler: DurableTriggerHandler;
}

export function registerDurableFunctions(
  engine: Pick<DurableEngine, 'registerOrchestrator' | 'registerActivity'>,
  registrations: readonly FunctionRegistration[],
): { readonly orchestrators: string[]; readonly activities: string[] } {
  const orchestrators: string[] = [];
  const activities: string[] = [];
  for (const { metadata, handler } of registrations) {
    const types = Object.values(metadata.bindings ?? {}).map((b) => b.type);
    if (types.includes('orchestrationTrigger')) {
      engine.registerOrchestrator(metadata.name, handler);
      orchestrators.push(metadata.name);
    } else if (types.includes('activityTrigger')) {
      engine.registerActivity(metadata.name, handler);
      activities.push(metadata.name);
    }
  }
  return { orchestrators, activities };
}
