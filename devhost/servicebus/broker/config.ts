/**
 * The emulator's entities, configured as the official Service Bus emulator's `Config.json`:
 *
 *   { "UserConfig": { "Namespaces": [ { "Name", "Queues": [...], "Topics": [ { ..., "Subscriptions":
 *     [ { ..., "Rules": [ { "Name", "Properties": { "FilterType": "Correlation", "CorrelationFilter" } } ] } ] } ] } ],
 *     "Logging": { "Type": "File" } } }
 *
 * `parseEmulatorConfig` validates it once at start-up (zod) and returns a `BrokerTopology` with
 * durations in milliseconds and Azure's defaults filled in; on any problem it throws one
 * `BrokerConfigError` naming every problem with its JSON path. Forwarding, SQL filters and more than
 * one namespace are not supported and are reported as problems rather than silently ignored.
 */
import { z } from 'zod';
import { parseIsoDuration } from './duration';
import { BrokerConfigError, type ConfigIssue } from './errors';

/** Durations longer than this (TimeSpan.MaxValue and the like) mean "never expires". */
const NEVER_MS = 100 * 365 * 24 * 3600 * 1000;

export const DEFAULTS = {
  lockDurationMs: 60_000,
  maxDeliveryCount: 10,
  duplicateDetectionWindowMs: 10 * 60_000,
} as const;

export interface QueueLikeProperties {
  readonly lockDurationMs: number;
  readonly maxDeliveryCount: number;
  /** Undefined: messages never expire unless they carry their own time to live. */
  readonly defaultTimeToLiveMs?: number;
  readonly deadLetteringOnMessageExpiration: boolean;
  readonly requiresSession: boolean;
}

export interface DuplicateDetection {
  readonly requiresDuplicateDetection: boolean;
  readonly duplicateDetectionWindowMs: number;
}

export interface QueueDefinition {
  readonly name: string;
  readonly properties: QueueLikeProperties & DuplicateDetection;
}

export interface CorrelationFilter {
  readonly kind: 'correlation';
  readonly correlationId?: string;
  readonly messageId?: string;
  readonly to?: string;
  readonly replyTo?: string;
  readonly subject?: string;
  readonly contentType?: string;
  readonly sessionId?: string;
  readonly properties: Readonly<Record<string, string | number | boolean>>;
}

export type Filter = { readonly kind: 'true' } | CorrelationFilter;

export interface RuleDefinition {
  readonly name: string;
  readonly filter: Filter;
}

export interface SubscriptionDefinition {
  readonly name: string;
  readonly properties: QueueLikeProperties;
  /** Never empty: a subscription configured without rules gets `$Default` with a TrueFilter. */
  readonly rules: readonly RuleDefinition[];
}

export interface TopicDefinition {
  readonly name: string;
  readonly properties: DuplicateDetection & { readonly defaultTimeToLiveMs?: number };
  readonly subscriptions: readonly SubscriptionDefinition[];
}

export interface BrokerTopology {
  readonly namespace: string;
  readonly queues: readonly QueueDefinition[];
  readonly topics: readonly TopicDefinition[];
}

const duration = z
  .string()
  .refine((text) => parseIsoDuration(text) !== undefined, {
    error: 'must be an ISO 8601 duration such as "PT1M" or "P14D" (years and months are not supported)',
  })
  .transform((text) => parseIsoDuration(text) as number);

const lockDuration = duration.refine((ms) => ms >= 5_000 && ms <= 5 * 60_000, {
  error: 'must be between PT5S and PT5M',
});

const noForwarding = z.literal('', { error: 'forwarding is not supported by devhost; leave it empty' });

const entityName = z
  .string()
  .min(1, { error: 'must not be empty' })
  .max(260, { error: 'must be at most 260 characters' })
  .regex(/^([A-Za-z0-9][A-Za-z0-9._\-/]*)?$/, {
    error:
      'may contain letters, digits, periods, hyphens, underscores and slashes, and starts with a letter or digit',
  });

const queueLikeShape = {
  DeadLetteringOnMessageExpiration: z.boolean().optional(),
  DefaultMessageTimeToLive: duration.optional(),
  LockDuration: lockDuration.optional(),
  MaxDeliveryCount: z.number().int().min(1).optional(),
  RequiresSession: z.boolean().optional(),
  ForwardTo: noForwarding.optional(),
  ForwardDeadLetteredMessagesTo: noForwarding.optional(),
};

const duplicateShape = {
  DuplicateDetectionHistoryTimeWindow: duration
    .refine((ms) => ms >= 20_000, { error: 'must be at least PT20S' })
    .optional(),
  RequiresDuplicateDetection: z.boolean().optional(),
};

const filterValue = z.union([z.string(), z.number(), z.boolean()]);

const correlationFilterSchema = z
  .strictObject({
    CorrelationId: z.string().optional(),
    MessageId: z.string().optional(),
    To: z.string().optional(),
    ReplyTo: z.string().optional(),
    Label: z.string().optional(),
    ContentType: z.string().optional(),
    SessionId: z.string().optional(),
    Properties: z.record(z.string(), filterValue).optional(),
  })
  .refine(
    (filter) =>
      Object.entries(filter).some(([key, value]) =>
        key === 'Properties' ? Object.keys(value as object).length > 0 : value !== undefined,
      ),
    { error: 'a correlation filter must set at least one field or property' },
  );

const ruleSchema = z.strictObject({
  Name: z.string().min(1, { error: 'must not be empty' }),
  Properties: z.strictObject({
    FilterType: z.literal('Correlation', { error: 'devhost supports FilterType "Correlation" only' }),
    CorrelationFilter: correlationFilterSchema,
  }),
});

const subscriptionSchema = z.strictObject({
  Name: entityName,
  Properties: z.strictObject(queueLikeShape).optional(),
  Rules: z.array(ruleSchema).optional(),
});

const topicSchema = z.strictObject({
  Name: entityName,
  Properties: z
    .strictObject({
      DefaultMessageTimeToLive: duration.optional(),
      ...duplicateShape,
    })
    .optional(),
  Subscriptions: z.array(subscriptionSchema).optional(),
});

const queueSchema = z.strictObject({
  Name: entityName,
  Properties: z.strictObject({ ...queueLikeShape, ...duplicateShape }).optional(),
});

const namespaceSchema = z.strictObject({
  Name: z.string().min(1, { error: 'must not be empty' }),
  Queues: z.array(queueSchema).optional(),
  Topics: z.array(topicSchema).optional(),
});

const configSchema = z.strictObject({
  UserConfig: z.strictObject({
    Namespaces: z.array(namespaceSchema).length(1, { error: 'devhost emulates exactly one namespace' }),
    Logging: z.looseObject({ Type: z.string().optional() }).optional(),
  }),
});

/** The configuration as written in Config.json (what `luciusTopology` generates). */
export type EmulatorConfig = z.input<typeof configSchema>;

function formatPath(path: readonly PropertyKey[]): string {
  return path.reduce<string>((text, key) => {
    if (typeof key === 'number') return `${text}[${key}]`;
    return text === '' ? String(key) : `${text}.${String(key)}`;
  }, '');
}

function ttl(ms: number | undefined): number | undefined {
  return ms === undefined || ms >= NEVER_MS ? undefined : ms;
}

function uniqueNames(
  names: readonly { readonly Name: string }[],
  path: string,
  kind: string,
  issues: ConfigIssue[],
): void {
  const seen = new Set<string>();
  names.forEach((entry, index) => {
    const key = entry.Name.toLowerCase();
    if (seen.has(key))
      issues.push({ path: `${path}[${index}].Name`, message: `duplicate ${kind} name '${entry.Name}'` });
    seen.add(key);
  });
}

/** Validates a Config.json document; throws `BrokerConfigError` listing every problem. */
export function parseEmulatorConfig(raw: unknown): BrokerTopology {
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    throw new BrokerConfigError(
      parsed.error.issues.map((issue) => ({
        path: formatPath(issue.path) || '(root)',
        message: issue.message,
      })),
    );
  }
  const namespace = parsed.data.UserConfig.Namespaces[0]!;
  const base = 'UserConfig.Namespaces[0]';
  const queues = namespace.Queues ?? [];
  const topics = namespace.Topics ?? [];
  const issues: ConfigIssue[] = [];
  // Queues and topics share one namespace of names.
  uniqueNames([...queues, ...topics], `${base}.Queues+Topics`, 'queue or topic', issues);
  topics.forEach((topic, t) => {
    const subscriptions = topic.Subscriptions ?? [];
    uniqueNames(subscriptions, `${base}.Topics[${t}].Subscriptions`, 'subscription', issues);
    subscriptions.forEach((subscription, s) =>
      uniqueNames(subscription.Rules ?? [], `${base}.Topics[${t}].Subscriptions[${s}].Rules`, 'rule', issues),
    );
  });
  if (issues.length > 0) throw new BrokerConfigError(issues);

  return {
    namespace: namespace.Name,
    queues: queues.map((queue) => {
      const p = queue.Properties ?? {};
      return {
        name: queue.Name,
        properties: {
          lockDurationMs: p.LockDuration ?? DEFAULTS.lockDurationMs,
          maxDeliveryCount: p.MaxDeliveryCount ?? DEFAULTS.maxDeliveryCount,
          defaultTimeToLiveMs: ttl(p.DefaultMessageTimeToLive),
          deadLetteringOnMessageExpiration: p.DeadLetteringOnMessageExpiration ?? false,
          requiresSession: p.RequiresSession ?? false,
          requiresDuplicateDetection: p.RequiresDuplicateDetection ?? false,
          duplicateDetectionWindowMs:
            p.DuplicateDetectionHistoryTimeWindow ?? DEFAULTS.duplicateDetectionWindowMs,
        },
      };
    }),
    topics: topics.map((topic) => {
      const p = topic.Properties ?? {};
      return {
        name: topic.Name,
        properties: {
          defaultTimeToLiveMs: ttl(p.DefaultMessageTimeToLive),
          requiresDuplicateDetection: p.RequiresDuplicateDetection ?? false,
          duplicateDetectionWindowMs:
            p.DuplicateDetectionHistoryTimeWindow ?? DEFAULTS.duplicateDetectionWindowMs,
        },
        subscriptions: (topic.Subscriptions ?? []).map((subscription) => {
          const s = subscription.Properties ?? {};
          const rules = subscription.Rules ?? [];
          return {
            name: subscription.Name,
            properties: {
              lockDurationMs: s.LockDuration ?? DEFAULTS.lockDurationMs,
              maxDeliveryCount: s.MaxDeliveryCount ?? DEFAULTS.maxDeliveryCount,
              defaultTimeToLiveMs: ttl(s.DefaultMessageTimeToLive),
              deadLetteringOnMessageExpiration: s.DeadLetteringOnMessageExpiration ?? false,
              requiresSession: s.RequiresSession ?? false,
            },
            rules:
              rules.length === 0
                ? [{ name: '$Default', filter: { kind: 'true' } as const }]
                : rules.map((rule) => {
                    const f = rule.Properties.CorrelationFilter;
                    return {
                      name: rule.Name,
                      filter: {
                        kind: 'correlation' as const,
                        correlationId: f.CorrelationId,
                        messageId: f.MessageId,
                        to: f.To,
                        replyTo: f.ReplyTo,
                        subject: f.Label,
                        contentType: f.ContentType,
                        sessionId: f.SessionId,
                        properties: f.Properties ?? {},
                      },
                    };
                  }),
          };
        }),
      };
    }),
  };
}
