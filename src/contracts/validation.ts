/**
 * The one ajv instance (JSON Schema 2020-12, allErrors, strict, ajv-formats) holding every schema in
 * schemas/. Each is compiled once, when this module loads; a schema that fails to load or compile
 * fails start-up. Validators never throw on bad input: they return the violations.
 */
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Violation } from '../domain/errors';
import { SchemaLoadError } from './errors';
import { SCHEMA_IDS, readSchemaFile, schemaUri, type SchemaId } from './schema-files';
import { toViolations } from './violations';

export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly violations: readonly Violation[] };

export type Validator<T> = (value: unknown) => ValidationResult<T>;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
for (const id of SCHEMA_IDS) ajv.addSchema(readSchemaFile(id));

const compiled = new Map<SchemaId, ValidateFunction>(SCHEMA_IDS.map((id) => [id, compile(id)]));

function compile(id: SchemaId): ValidateFunction {
  let validate: ValidateFunction | undefined;
  try {
    validate = ajv.getSchema(schemaUri(id));
  } catch (error) {
    throw new SchemaLoadError(`schema ${id} does not compile`, error);
  }
  if (validate === undefined) throw new SchemaLoadError(`schema ${id} is not registered`);
  return validate;
}

/** The compiled validator of a schema, typed with the TypeScript shape the schema describes. */
export function validatorFor<T>(id: SchemaId): Validator<T> {
  const validate = compiled.get(id) as ValidateFunction;
  return (value) =>
    validate(value)
      ? { ok: true, value: value as T }
      : { ok: false, violations: toViolations(validate.errors ?? []) };
}
