/**
 * Protocol resolution: a command's `request_type` names a protocol in the registry, an ordered list
 * of steps. Each step's payload (`payload.steps[step_id]`) must be present and valid against that
 * step's schema; payloads for steps the protocol does not have are refused too (almost always a typo).
 *
 * Schema validation is passed in (`validateStepPayload`) so the domain stays free of any validator.
 */
import { StepPayloadError, UnknownRequestTypeError, type Violation } from './errors';
import type { StepType } from './step';

export interface ProtocolStep {
  readonly stepId: string;
  readonly type: StepType;
  /** Id of the step payload schema, e.g. `steps/ocr.v1`. */
  readonly payloadSchema: string;
}

export interface Protocol {
  readonly requestType: string;
  readonly description?: string;
  readonly steps: readonly ProtocolStep[];
}

export interface ProtocolRegistry {
  readonly version: string;
  readonly protocols: ReadonlyMap<string, Protocol>;
}

/** Validates one step payload against a schema id; returns violations with pointers relative to the payload. */
export type StepPayloadValidator = (schemaId: string, payload: unknown) => readonly Violation[];

export interface ResolvedStep extends ProtocolStep {
  readonly index: number;
  readonly payload: Readonly<Record<string, unknown>>;
}

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

export function resolveProtocol(
  envelope: {
    readonly request_type: string;
    readonly payload: { readonly steps: Readonly<Record<string, unknown>> };
  },
  registry: ProtocolRegistry,
  validateStepPayload: StepPayloadValidator,
): { protocol: Protocol; steps: ResolvedStep[] } {
  const protocol = registry.protocols.get(envelope.request_type);
  if (protocol === undefined)
    throw new UnknownRequestTypeError(envelope.request_type, [...registry.protocols.keys()]);

  const given = envelope.payload.steps;
  const violations: Violation[] = [];
  const steps: ResolvedStep[] = [];
  protocol.steps.forEach((step, index) => {
    const base = `/payload/steps/${escapePointerToken(step.stepId)}`;
    if (!Object.prototype.hasOwnProperty.call(given, step.stepId)) {
      violations.push({
        pointer: base,
        message: `missing payload for step "${step.stepId}" of ${protocol.requestType}`,
        keyword: 'required',
      });
      return;
    }
    const payload = given[step.stepId];
    for (const v of validateStepPayload(step.payloadSchema, payload))
      violations.push({ ...v, pointer: base + v.pointer });
    steps.push({ ...step, index, payload: payload as Readonly<Record<string, unknown>> });
  });
  const known = new Set(protocol.steps.map((s) => s.stepId));
  for (const stepId of Object.keys(given)) {
    if (!known.has(stepId)) {
      violations.push({
        pointer: `/payload/steps/${escapePointerToken(stepId)}`,
        message: `${protocol.requestType} has no step "${stepId}" (steps: ${[...known].join(', ')})`,
        keyword: 'additionalProperties',
      });
    }
  }
  if (violations.length > 0) throw new StepPayloadError(protocol.requestType, violations);
  return { protocol, steps };
}
