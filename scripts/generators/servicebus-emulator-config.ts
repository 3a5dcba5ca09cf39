/**
 * `docker/Config.json`: the entity configuration of Microsoft's Service Bus emulator image
 * (mcr.microsoft.com/azure-messaging/servicebus-emulator) for docker-compose.yml, built from the same
 * topology description as devhost's emulator (launcher/lucius-topology.ts) and the bicep.
 *
 * The official emulator accepts only namespace `sbemulatorns` and caps some properties below what
 * Lucius asks of Azure; values beyond a cap are lowered to it here, so the image accepts the file:
 *
 *   DefaultMessageTimeToLive             at most PT1H   (Lucius: P14D)
 *   DuplicateDetectionHistoryTimeWindow  at most PT5M   (Lucius: PT10M)
 *   LockDuration                         PT1M to PT5M   (Lucius: PT60S)
 *   MaxDeliveryCount                     at most 10     (Lucius's quarantine queue: 2000)
 *   queues + topics                      at most 50     (Lucius: 2 per lane + 1)
 */
import { parseIsoDuration } from '../../devhost/servicebus/broker/duration';
import type { EmulatorConfig } from '../../devhost/servicebus/broker/config';
import { luciusTopology } from '../../launcher/lucius-topology';
import { parseSettings } from '../../src/config/settings';
import { isoDuration, jsonFileContent, type GeneratedFile } from './generated-file';

export const SERVICEBUS_EMULATOR_CONFIG_PATH = 'docker/Config.json';

/** The official emulator's limits (its Config.json schema). */
export const OFFICIAL_EMULATOR_LIMITS = {
  namespace: 'sbemulatorns',
  maxEntities: 50,
  maxMessageTimeToLiveSeconds: 3600,
  maxDuplicateDetectionWindowSeconds: 300,
  minLockDurationSeconds: 60,
  maxLockDurationSeconds: 300,
  maxDeliveryCount: 10,
} as const;

type Env = Readonly<Record<string, string | undefined>>;
type Properties = Record<string, unknown>;

function clampDuration(value: unknown, name: string, minSeconds: number, maxSeconds: number): string {
  const ms = typeof value === 'string' ? parseIsoDuration(value) : undefined;
  if (ms === undefined) throw new Error(`${name} must be an ISO 8601 duration, got ${String(value)}`);
  return isoDuration(Math.min(maxSeconds, Math.max(minSeconds, Math.round(ms / 1000))));
}

/** The same entity properties, lowered to what the official emulator accepts. */
function withinLimits<T extends object>(properties: T | undefined): T | undefined {
  if (properties === undefined) return undefined;
  const limits = OFFICIAL_EMULATOR_LIMITS;
  const out: Properties = { ...(properties as Properties) };
  if ('DefaultMessageTimeToLive' in out) {
    out.DefaultMessageTimeToLive = clampDuration(
      out.DefaultMessageTimeToLive,
      'DefaultMessageTimeToLive',
      300,
      limits.maxMessageTimeToLiveSeconds,
    );
  }
  if ('DuplicateDetectionHistoryTimeWindow' in out) {
    out.DuplicateDetectionHistoryTimeWindow = clampDuration(
      out.DuplicateDetectionHistoryTimeWindow,
      'DuplicateDetectionHistoryTimeWindow',
      5,
      limits.maxDuplicateDetectionWindowSeconds,
    );
  }
  if ('LockDuration' in out) {
    out.LockDuration = clampDuration(
      out.LockDuration,
      'LockDuration',
      limits.minLockDurationSeconds,
      limits.maxLockDurationSeconds,
    );
  }
  if (typeof out.MaxDeliveryCount === 'number') {
    out.MaxDeliveryCount = Math.min(out.MaxDeliveryCount, limits.maxDeliveryCount);
  }
  return out as T;
}

export function serviceBusEmulatorConfig(env: Env = {}): EmulatorConfig {
  const settings = parseSettings({ ...env, LUCIUS_STORAGE_BACKEND: 'memory' });
  const config = luciusTopology({
    ...settings.serviceBus,
    laneCount: settings.admission.laneCount,
    namespace: OFFICIAL_EMULATOR_LIMITS.namespace,
  });
  const namespaces = config.UserConfig.Namespaces.map((namespace) => {
    const entities = (namespace.Queues?.length ?? 0) + (namespace.Topics?.length ?? 0);
    if (entities > OFFICIAL_EMULATOR_LIMITS.maxEntities) {
      throw new RangeError(
        `the official Service Bus emulator holds at most ${OFFICIAL_EMULATOR_LIMITS.maxEntities} queues and topics; ` +
          `this topology has ${entities} (lower LUCIUS_LANE_COUNT for docker compose)`,
      );
    }
    return {
      ...namespace,
      Queues: namespace.Queues?.map((queue) => ({ ...queue, Properties: withinLimits(queue.Properties) })),
      Topics: namespace.Topics?.map((topic) => ({
        ...topic,
        Properties: withinLimits(topic.Properties),
        Subscriptions: topic.Subscriptions?.map((subscription) => ({
          ...subscription,
          Properties: withinLimits(subscription.Properties),
        })),
      })),
    };
  });
  return { UserConfig: { ...config.UserConfig, Namespaces: namespaces } };
}

export const serviceBusEmulatorConfigFile: GeneratedFile = {
  path: SERVICEBUS_EMULATOR_CONFIG_PATH,
  generate: () => jsonFileContent(serviceBusEmulatorConfig()),
};
