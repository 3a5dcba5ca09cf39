/**
 * Lucius's messaging topology (src/messaging/topology.ts, the one description the app uses) as a
 * Service Bus emulator Config.json document, for devhost's emulator; the same document can be handed
 * to the official emulator. `luciusEmulatorConfig` builds it from Lucius's own settings.
 */
import {
  ENTITY_DEFAULTS,
  messagingTopology,
  QUARANTINE_MAX_DELIVERY_COUNT,
  STEP_TYPE_PROPERTY,
  type TopologySettings,
} from '../src/messaging/topology';
import { parseSettings } from '../src/config/settings';
import type { EmulatorConfig } from '../devhost/servicebus/broker/config';

export { PLATFORM_SUBSCRIPTIONS, STEP_TYPE_PROPERTY } from '../src/messaging/topology';

export interface LuciusTopologyOptions extends TopologySettings {
  /** Defaults to the emulator's `sbemulatorns`. */
  readonly namespace?: string;
}

const TOPIC_PROPERTIES = {
  DefaultMessageTimeToLive: `P${ENTITY_DEFAULTS.messageTimeToLiveDays}D`,
  DuplicateDetectionHistoryTimeWindow: `PT${ENTITY_DEFAULTS.duplicateDetectionWindowMinutes}M`,
  RequiresDuplicateDetection: true,
};

const SUBSCRIPTION_PROPERTIES = {
  DeadLetteringOnMessageExpiration: ENTITY_DEFAULTS.deadLetterOnExpiration,
  DefaultMessageTimeToLive: `P${ENTITY_DEFAULTS.messageTimeToLiveDays}D`,
  LockDuration: `PT${ENTITY_DEFAULTS.lockDurationSeconds}S`,
  MaxDeliveryCount: ENTITY_DEFAULTS.maxDeliveryCount,
  RequiresSession: false,
};

/** A platform subscription drops an expired directive (its attempt ended not started). */
const DIRECTIVE_SUBSCRIPTION_PROPERTIES = {
  ...SUBSCRIPTION_PROPERTIES,
  DeadLetteringOnMessageExpiration: ENTITY_DEFAULTS.directiveDeadLetterOnExpiration as boolean,
};

export function luciusTopology(options: LuciusTopologyOptions): EmulatorConfig {
  const topology = messagingTopology(options);
  const laneTopics = topology.laneTopics.map((topic) => ({
    Name: topic.name,
    Properties: { ...TOPIC_PROPERTIES },
    Subscriptions: topic.subscriptions.map((subscription) => ({
      Name: subscription.name,
      Properties: { ...DIRECTIVE_SUBSCRIPTION_PROPERTIES },
      Rules: [
        {
          Name: `${STEP_TYPE_PROPERTY}-${subscription.stepType.toLowerCase()}`,
          Properties: {
            FilterType: 'Correlation' as const,
            CorrelationFilter: { Properties: { [STEP_TYPE_PROPERTY]: subscription.stepType } },
          },
        },
      ],
    })),
  }));
  const replyTopics = topology.replyTopics.map((topic) => ({
    Name: topic.name,
    Properties: { ...TOPIC_PROPERTIES },
    Subscriptions: [{ Name: topic.subscription, Properties: { ...SUBSCRIPTION_PROPERTIES } }],
  }));
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: options.namespace ?? 'sbemulatorns',
          Queues: [
            {
              Name: topology.quarantineQueue,
              Properties: { ...SUBSCRIPTION_PROPERTIES, MaxDeliveryCount: QUARANTINE_MAX_DELIVERY_COUNT },
            },
          ],
          Topics: [...laneTopics, ...replyTopics],
        },
      ],
      Logging: { Type: 'File' },
    },
  };
}

/**
 * Lucius's topology from its own settings (parsed by the app's settings code, so a bad lane count or
 * entity prefix stops start-up with the variable named), through the description the app uses.
 */
export function luciusEmulatorConfig(env: NodeJS.ProcessEnv): EmulatorConfig {
  // Only the messaging settings matter here; storage is checked when the app itself loads.
  const settings = parseSettings({ ...env, LUCIUS_STORAGE_BACKEND: 'memory' });
  return luciusTopology({ ...settings.serviceBus, laneCount: settings.admission.laneCount });
}
