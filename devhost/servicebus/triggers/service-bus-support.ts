/**
 * Service Bus triggers as a part the host plugs in (common/host-parts.ts): once the host has started
 * its timers, every enabled `app.serviceBusQueue` / `app.serviceBusTopic` function receives through
 * the namespace its connection setting names (service-bus-listeners.ts); stopping closes the
 * receivers first, so no message arrives once the host is stopping.
 */
import type { ServiceBusFunction } from '../../common/functions';
import type { HostPart, PartRegistration } from '../../common/host-parts';
import { startServiceBusListeners, type ServiceBusListeners } from './service-bus-listeners';

export function createServiceBusSupport(): HostPart {
  let registration: PartRegistration | undefined;
  let listeners: ServiceBusListeners | undefined;
  return {
    name: 'Service Bus support',
    kinds: ['serviceBus'],
    register: (given) => {
      registration = given;
    },
    start: async () => {
      if (registration === undefined) return;
      const { functions, env, config, invoke, log } = registration;
      const own = functions.filter((fn): fn is ServiceBusFunction => fn.kind === 'serviceBus');
      if (own.length === 0) return;
      listeners = await startServiceBusListeners({
        functions: own,
        env,
        config: config.serviceBus,
        invoke: (fn, trigger, metadata, invocation) => invoke(fn, trigger, metadata, invocation),
        log,
      });
    },
    stop: async () => {
      await listeners?.stop();
      listeners = undefined;
    },
  };
}
