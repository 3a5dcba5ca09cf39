/**
 * The three platforms a Lucius directive can be addressed to, as a platform team sees the topology
 * (README: "The worker contract"): directives for one step type arrive on every lane topic `{topicPrefix}{lane}`
 * through that platform's subscription, which filters on the application property `step_type`.
 * Kept here rather than imported from src/messaging so this folder reads as a standalone worker;
 * test/workers checks that both agree.
 */

export const STEP_TYPES = ['OCR', 'EMBEDDING', 'SIS'] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** The subscription each platform receives its directives through. */
export const PLATFORM_SUBSCRIPTIONS: Readonly<Record<StepType, string>> = {
  OCR: 'distributed-ocr',
  EMBEDDING: 'vector-ingestion',
  SIS: 'semantic-intelligence',
};

/** `LUCIUS_SERVICEBUS_TOPIC_PREFIX`'s default: lane `n` is the topic `global-bus-p{n}`. */
export const DEFAULT_TOPIC_PREFIX = 'global-bus-p';

/** `LUCIUS_LANE_COUNT`'s default. */
export const DEFAULT_LANE_COUNT = 16;

/** The platform whose directives arrive through `subscription`, if it is one of the three. */
export function stepTypeOfSubscription(subscription: string): StepType | undefined {
  return STEP_TYPES.find((stepType) => PLATFORM_SUBSCRIPTIONS[stepType] === subscription);
}

export function isStepType(value: unknown): value is StepType {
  return typeof value === 'string' && (STEP_TYPES as readonly string[]).includes(value);
}

/**
 * What a demo worker reports in a successful RESULT's `result`: plausible metadata derived from the
 * step payload (which Lucius validated against the step's payload schema at admission).
 */
export function demoResultFor(
  stepType: StepType,
  payload: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  switch (stepType) {
    case 'OCR':
      return { pages: 3, output_format: stringOr(payload.output_format, 'TEXT') };
    case 'EMBEDDING':
      return {
        model: stringOr(payload.model, 'demo-embedding'),
        vectors: 12,
        dimensions: typeof payload.dimensions === 'number' ? payload.dimensions : 1536,
      };
    case 'SIS':
      return { analysis: Array.isArray(payload.analysis) ? payload.analysis : ['entities'], findings: 5 };
  }
}

function stringOr(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}
