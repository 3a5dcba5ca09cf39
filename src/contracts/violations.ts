/**
 * ajv errors → Violations (the JSON pointers problem documents and dead-letter reasons carry).
 *
 * A pointer locates the offending value itself: a `required` error points at the missing property
 * (`/payload/steps`, not `/payload`), an `additionalProperties` error at the extra property and a
 * property-name error at the property. The `if` and `propertyNames` summaries are dropped: the
 * errors they wrap are reported on their own.
 */
import type { ErrorObject } from 'ajv';
import type { Violation } from '../domain/errors';
import { escapePointerToken } from '../domain/protocol';

const SUMMARY_KEYWORDS: ReadonlySet<string> = new Set(['if', 'propertyNames']);

export function toViolations(errors: readonly ErrorObject[]): Violation[] {
  return errors.filter((error) => !SUMMARY_KEYWORDS.has(error.keyword)).map(toViolation);
}

export function toViolation(error: ErrorObject): Violation {
  const params = error.params as Record<string, unknown>;
  const at = (property: unknown): string => `${error.instancePath}/${escapePointerToken(String(property))}`;
  const violation = (pointer: string, message: string): Violation => ({
    pointer,
    message,
    keyword: error.keyword,
  });

  if (error.propertyName !== undefined) {
    return violation(
      at(error.propertyName),
      `property name "${error.propertyName}" ${error.message ?? 'is not valid'}`,
    );
  }
  switch (error.keyword) {
    case 'required':
      return violation(
        at(params.missingProperty),
        `required property "${String(params.missingProperty)}" is missing`,
      );
    case 'additionalProperties':
      return violation(
        at(params.additionalProperty),
        `property "${String(params.additionalProperty)}" is not allowed`,
      );
    case 'enum':
      return violation(
        error.instancePath,
        `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      );
    case 'const':
      return violation(error.instancePath, `must be ${JSON.stringify(params.allowedValue)}`);
    case 'false schema':
      return violation(error.instancePath, 'is not allowed here');
    default:
      return violation(error.instancePath, error.message ?? `fails ${error.keyword}`);
  }
}
