/**
 * `infra/generated/servicebus-topology.json`: Lucius's messaging topology (src/messaging/topology.ts)
 * as the flat lists infra/app/servicebus.bicep loops over, with the entity properties under their
 * ARM names so the bicep passes them through unchanged:
 *
 *   settings       the app settings that make the app use exactly these entities
 *   topics         lane topics `{topicPrefix}{lane}`, then reply topics `{replyPrefix}{lane}`
 *   subscriptions  each names its topic by index into `topics`
 *   rules          each names its subscription by index into `subscriptions`
 *   queues         the quarantine queue
 *
 * Bicep cannot nest resource loops, hence the flat lists with indexes. A platform subscription's
 * filter is its `$Default` rule: Azure gives every subscription a `$Default` rule that accepts all
 * messages, and a rule of that name replaces it (another name would be added beside it, and the
 * subscription would receive every step type).
 *
 * Names come from the settings' defaults: regenerate after changing them, or pass an environment.
 */
import { parseSettings } from '../../src/config/settings';
import {
  ENTITY_DEFAULTS,
  messagingTopology,
  QUARANTINE_MAX_DELIVERY_COUNT,
  STEP_TYPE_PROPERTY,
} from '../../src/messaging/topology';
import { isoDuration, jsonFileContent, type GeneratedFile } from './generated-file';

export const SERVICEBUS_TOPOLOGY_PATH = 'infra/generated/servicebus-topology.json';

type Env = Readonly<Record<string, string | undefined>>;

const MESSAGE_TIME_TO_LIVE = isoDuration(ENTITY_DEFAULTS.messageTimeToLiveDays * 86_400);
const LOCK_DURATION = isoDuration(ENTITY_DEFAULTS.lockDurationSeconds);

const TOPIC_PROPERTIES = {
  defaultMessageTimeToLive: MESSAGE_TIME_TO_LIVE,
  requiresDuplicateDetection: true,
  duplicateDetectionHistoryTimeWindow: isoDuration(ENTITY_DEFAULTS.duplicateDetectionWindowMinutes * 60),
  supportOrdering: false,
};

/** A reply subscription's properties: an expired reply is dead-lettered (ENTITY_DEFAULTS). */
const SUBSCRIPTION_PROPERTIES = {
  lockDuration: LOCK_DURATION,
  maxDeliveryCount: ENTITY_DEFAULTS.maxDeliveryCount,
  defaultMessageTimeToLive: MESSAGE_TIME_TO_LIVE,
  deadLetteringOnMessageExpiration: ENTITY_DEFAULTS.deadLetterOnExpiration as boolean,
  deadLetteringOnFilterEvaluationExceptions: true,
  requiresSession: false,
};

/** A platform subscription's: an expired directive is dropped (its attempt ended not started). */
const DIRECTIVE_SUBSCRIPTION_PROPERTIES: typeof SUBSCRIPTION_PROPERTIES = {
  ...SUBSCRIPTION_PROPERTIES,
  deadLetteringOnMessageExpiration: ENTITY_DEFAULTS.directiveDeadLetterOnExpiration,
};

const QUARANTINE_PROPERTIES = {
  lockDuration: LOCK_DURATION,
  maxDeliveryCount: QUARANTINE_MAX_DELIVERY_COUNT,
  defaultMessageTimeToLive: MESSAGE_TIME_TO_LIVE,
  deadLetteringOnMessageExpiration: ENTITY_DEFAULTS.deadLetterOnExpiration,
  requiresDuplicateDetection: false,
  requiresSession: false,
};

export interface ServiceBusTopologyDocument {
  readonly $comment: string;
  readonly settings: Readonly<Record<string, string>>;
  readonly topics: ReadonlyArray<{ readonly name: string; readonly properties: typeof TOPIC_PROPERTIES }>;
  readonly subscriptions: ReadonlyArray<{
    readonly topicIndex: number;
    readonly topic: string;
    readonly name: string;
    readonly properties: typeof SUBSCRIPTION_PROPERTIES;
  }>;
  readonly rules: ReadonlyArray<{
    readonly subscriptionIndex: number;
    readonly name: string;
    readonly properties: {
      readonly filterType: 'CorrelationFilter';
      readonly correlationFilter: { readonly properties: Readonly<Record<string, string>> };
    };
  }>;
  readonly queues: ReadonlyArray<{
    readonly name: string;
    readonly properties: typeof QUARANTINE_PROPERTIES;
  }>;
}

export function serviceBusTopologyDocument(env: Env = {}): ServiceBusTopologyDocument {
  // Only the messaging settings matter here; the storage backend is irrelevant to the topology.
  const settings = parseSettings({ ...env, LUCIUS_STORAGE_BACKEND: 'memory' });
  const { serviceBus } = settings;
  const topology = messagingTopology({ ...serviceBus, laneCount: settings.admission.laneCount });

  const topics = [
    ...topology.laneTopics.map((topic) => ({ name: topic.name, properties: TOPIC_PROPERTIES })),
    ...topology.replyTopics.map((topic) => ({ name: topic.name, properties: TOPIC_PROPERTIES })),
  ];
  const subscriptions: Array<ServiceBusTopologyDocument['subscriptions'][number]> = [];
  const rules: Array<ServiceBusTopologyDocument['rules'][number]> = [];
  topology.laneTopics.forEach((topic, topicIndex) => {
    for (const subscription of topic.subscriptions) {
      rules.push({
        subscriptionIndex: subscriptions.length,
        name: '$Default',
        properties: {
          filterType: 'CorrelationFilter',
          correlationFilter: { properties: { [STEP_TYPE_PROPERTY]: subscription.stepType } },
        },
      });
      subscriptions.push({
        topicIndex,
        topic: topic.name,
        name: subscription.name,
        properties: DIRECTIVE_SUBSCRIPTION_PROPERTIES,
      });
    }
  });
  topology.replyTopics.forEach((topic, lane) => {
    subscriptions.push({
      topicIndex: topology.laneTopics.length + lane,
      topic: topic.name,
      name: topic.subscription,
      properties: SUBSCRIPTION_PROPERTIES,
    });
  });

  return {
    $comment:
      'Generated from src/messaging/topology.ts by scripts/generators/servicebus-topology.ts (npm run generate). Do not edit.',
    settings: {
      LUCIUS_LANE_COUNT: String(settings.admission.laneCount),
      LUCIUS_SERVICEBUS_TOPIC_PREFIX: serviceBus.topicPrefix,
      LUCIUS_SERVICEBUS_REPLY_PREFIX: serviceBus.replyPrefix,
      LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: serviceBus.replySubscription,
      LUCIUS_SERVICEBUS_QUARANTINE_QUEUE: topology.quarantineQueue,
    },
    topics,
    subscriptions,
    rules,
    queues: [{ name: topology.quarantineQueue, properties: QUARANTINE_PROPERTIES }],
  };
}

export const serviceBusTopologyFile: GeneratedFile = {
  path: SERVICEBUS_TOPOLOGY_PATH,
  generate: () => jsonFileContent(serviceBusTopologyDocument()),
};
