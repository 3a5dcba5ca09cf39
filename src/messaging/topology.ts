/**
 * The one description of Lucius's messaging topology (README: "The worker contract"), from settings: lane topics
 * `{topicPrefix}{lane}` carrying directives, with one subscription per platform filtered on the
 * application property `step_type`, and reply topics `{replyPrefix}{lane}` with Lucius's own
 * subscription. The publisher and reply triggers use it, devhost's emulator builds its entities from
 * it, and the deployment templates are to be generated from it.
 */
import type { Settings } from '../config/settings';
import type { StepType } from '../domain/step';

/** Which platform's subscription receives directives of each step type. */
export const PLATFORM_SUBSCRIPTIONS = {
  OCR: 'distributed-ocr',
  EMBEDDING: 'vector-ingestion',
  SIS: 'semantic-intelligence',
} as const satisfies Record<StepType, string>;

export const DEFAULT_QUARANTINE_QUEUE = 'lucius-quarantine';

/** The application property directives are filtered on. */
export const STEP_TYPE_PROPERTY = 'step_type';

/**
 * Entity settings every Lucius topic and subscription gets. What happens to a message that expires
 * depends on what it carries:
 *
 * - directives (`directiveDeadLetterOnExpiration`, the platform subscriptions): dropped. A step
 *   directive lives until its ACK deadline (its time to live); one that expires was read by nobody in
 *   time, and Lucius has already ended that attempt as not started and dispatches the next one, so a
 *   dead-lettered copy would be dead weight (and would trip the dead-letter depth alert on every busy
 *   lane).
 * - replies and the quarantine queue (`deadLetterOnExpiration`): dead-lettered. They carry no time to
 *   live of their own, so one expires only after 14 days unread (Lucius not reading, a reply parked
 *   and forgotten); it holds a worker's answer, so it is kept for an operator rather than lost.
 */
export const ENTITY_DEFAULTS = {
  lockDurationSeconds: 60,
  maxDeliveryCount: 10,
  messageTimeToLiveDays: 14,
  duplicateDetectionWindowMinutes: 10,
  deadLetterOnExpiration: true,
  directiveDeadLetterOnExpiration: false,
} as const;

/**
 * The quarantine queue is a parking lot that only operators drain (`lucius quarantine ...`): finding
 * one parked reply may take and give back others, so its delivery count is as high as Service Bus
 * allows, and a parked reply is never dead-lettered by being looked at.
 */
export const QUARANTINE_MAX_DELIVERY_COUNT = 2000;

export interface LaneTopic {
  readonly lane: number;
  readonly name: string;
  readonly subscriptions: ReadonlyArray<{ readonly name: string; readonly stepType: StepType }>;
}

export interface ReplyTopic {
  readonly lane: number;
  readonly name: string;
  readonly subscription: string;
}

export interface MessagingTopology {
  readonly laneTopics: readonly LaneTopic[];
  readonly replyTopics: readonly ReplyTopic[];
  /** The queue where replies that cannot be processed wait, with their reason, for an operator. */
  readonly quarantineQueue: string;
}

export type TopologySettings = Pick<
  Settings['serviceBus'],
  'topicPrefix' | 'replyPrefix' | 'replySubscription'
> &
  Partial<Pick<Settings['serviceBus'], 'quarantineQueue'>> & {
    readonly laneCount: number;
  };

export function messagingTopology(settings: TopologySettings): MessagingTopology {
  if (!Number.isInteger(settings.laneCount) || settings.laneCount < 1) {
    throw new RangeError(`laneCount must be a positive integer, got ${settings.laneCount}`);
  }
  const lanes = Array.from({ length: settings.laneCount }, (_, lane) => lane);
  const platforms = Object.entries(PLATFORM_SUBSCRIPTIONS) as Array<[StepType, string]>;
  return {
    laneTopics: lanes.map((lane) => ({
      lane,
      name: `${settings.topicPrefix}${lane}`,
      subscriptions: platforms.map(([stepType, name]) => ({ name, stepType })),
    })),
    replyTopics: lanes.map((lane) => ({
      lane,
      name: `${settings.replyPrefix}${lane}`,
      subscription: settings.replySubscription,
    })),
    quarantineQueue: settings.quarantineQueue ?? DEFAULT_QUARANTINE_QUEUE,
  };
}
