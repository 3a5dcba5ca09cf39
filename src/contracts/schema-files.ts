/**
 * Where the JSON Schemas live and how they are named.
 *
 * A schema's short id is its path under `schemas/` without `.json` (`steps/ocr.v1`); its `$id` is
 * `https://schemas.lucius.dev/<short id>.json`. The folder is found by walking up from this module,
 * so the same code runs from `src/` (ts-jest) and from `dist/src/` (compiled); the function app
 * deploys the project root, `schemas/` included.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { SchemaLoadError } from './errors';

export const SCHEMA_BASE_URI = 'https://schemas.lucius.dev/';

export const STEP_PAYLOAD_SCHEMA_IDS = ['steps/ocr.v1', 'steps/embedding.v1', 'steps/sis.v1'] as const;
export type StepPayloadSchemaId = (typeof STEP_PAYLOAD_SCHEMA_IDS)[number];

export const SCHEMA_IDS = [
  'command-envelope.v1',
  'directive.v1',
  'ack.v1',
  'result.v1',
  'heartbeat.v1',
  'protocol-registry.v1',
  ...STEP_PAYLOAD_SCHEMA_IDS,
] as const;
export type SchemaId = (typeof SCHEMA_IDS)[number];

export function schemaUri(id: string): string {
  return `${SCHEMA_BASE_URI}${id}.json`;
}

const MARKER_FILE = join('schemas', 'command-envelope.v1.json');

/** The nearest `schemas/` folder holding the command envelope schema, at or above `from`. */
export function findSchemasDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, MARKER_FILE))) return join(dir, 'schemas');
    if (dirname(dir) === dir)
      throw new SchemaLoadError(`no schemas/ folder with command-envelope.v1.json at or above ${from}`);
  }
}

export const SCHEMAS_DIR = findSchemasDir(__dirname);

/** Reads and parses `schemas/<id>.json`, checking that its `$id` matches its path. */
export function readSchemaFile(id: SchemaId, dir: string = SCHEMAS_DIR): Record<string, unknown> {
  const file = join(dir, `${id}.json`);
  let schema: unknown;
  try {
    schema = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new SchemaLoadError(`cannot load schema ${file}`, error);
  }
  const declared =
    typeof schema === 'object' && schema !== null ? (schema as { $id?: unknown }).$id : undefined;
  if (declared !== schemaUri(id)) {
    throw new SchemaLoadError(
      `schema ${file} declares $id ${JSON.stringify(declared)}, expected ${schemaUri(id)}`,
    );
  }
  return schema as Record<string, unknown>;
}
