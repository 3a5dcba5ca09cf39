/**
 * The one description of Lucius's messaging topology (DESIGN section 7), as a Service Bus emulator
 * Config.json document: lane topics `{topicPrefix}{lane}` with one subscription per platform,
 * filtered on the application property `step_type`, and reply topics `{replyPrefix}{lane}` with
 * the invoker's subscription. devhost feeds it to the broker; the same document can be written out
 * for the official emulator and turned into bicep.
 */
import type { StepType } from '../../../src/domain/step';
import type { EmulatorConfig } from './config';

export interface LuciusTopologyOptions {
  readonly laneCount: number;
  readonly topicPrefix: string;
  readonly replyPrefix: string;
  readonly replySubscription: string;
  /** Defaults to the emulator's `sbemulatorns`. */
  readonly namespace?: string;
}

/** Which platform's subscription receives directives of each step type. */
export const PLATFORM_SUBSCRIPTIONS = {
  OCR: 'distributed-ocr',
  EMBEDDING: 'vector-ingestion',
  SIS: 'semantic-intelligence',
} as const satisfies Record<StepType, string>;

/** The application property directives are filtered on. */
export const STEP_TYPE_PROPERTY = 'step_type';

const TOPIC_PROPERTIES = {
  DefaultMessageTimeToLive: 'P14D',
  DuplicateDetectionHistoryTimeWindow: 'PT10M',
  RequiresDuplicateDetection: true,
};

const SUBSCRIPTION_PROPERTIES = {
  DeadLetteringOnMessageExpiration: true,
  DefaultMessageTimeToLive: 'P14D',
  LockDuration: 'PT1M',
  MaxDeliveryCount: 10,
  RequiresSession: false,
};

export function luciusTopology(options: LuciusTopologyOptions): EmulatorConfig {
  if (!Number.isInteger(options.laneCount) || options.laneCount < 1) {
    throw new RangeError(`laneCount must be a positive integer, got ${options.laneCount}`);
  }
  const lanes = Array.from({ length: options.laneCount }, (_, lane) => lane);
  const laneTopics = lanes.map((lane) => ({
    Name: `${options.topicPrefix}${lane}`,
    Properties: { ...TOPIC_PROPERTIES },
    Subscriptions: (Object.entries(PLATFORM_SUBSCRIPTIONS) as [StepType, string][]).map(
      ([stepType, name]) => ({
        Name: name,
        Properties: { ...SUBSCRIPTION_PROPERTIES },
        Rules: [
          {
            Name: `${STEP_TYPE_PROPERTY}-${stepType.toLowerCase()}`,
            Properties: {
              FilterType: 'Correlation' as const,
              CorrelationFilter: { Properties: { [STEP_TYPE_PROPERTY]: stepType } },
            },
          },
        ],
      }),
    ),
  }));
  const replyTopics = lanes.map((lane) => ({
    Name: `${options.replyPrefix}${lane}`,
    Properties: { ...TOPIC_PROPERTIES },
    Subscriptions: [{ Name: options.replySubscription, Properties: { ...SUBSCRIPTION_PROPERTIES } }],
  }));
  return {
    UserConfig: {
      Namespaces: [
        { Name: options.namespace ?? 'sbemulatorns', Queues: [], Topics: [...laneTopics, ...replyTopics] },
      ],
      Logging: { Type: 'File' },
    },
  };
}
