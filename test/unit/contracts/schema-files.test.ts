import { mkdtempSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { SchemaLoadError } from '../../../src/contracts/errors';
import {
  SCHEMAS_DIR,
  SCHEMA_IDS,
  findSchemasDir,
  readSchemaFile,
  schemaUri,
} from '../../../src/contracts/schema-files';
import { SIS_ANALYSES } from '../../../src/contracts/step-payloads';
import { WORKER_FAILURE_CLASSES } from '../../../src/domain/failure';
import { STEP_TYPES } from '../../../src/domain/step';

const projectRoot = resolve(__dirname, '../../..');

function jsonFilesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory()
      ? jsonFilesUnder(join(dir, entry.name))
      : entry.name.endsWith('.json')
        ? [join(dir, entry.name)]
        : [],
  );
}

const at = (schema: Record<string, unknown>, ...path: string[]): unknown =>
  path.reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], schema);

describe('findSchemasDir', () => {
  it('finds the project schemas/ folder from the source tree and from the compiled tree', () => {
    expect(findSchemasDir(join(projectRoot, 'src', 'contracts'))).toBe(join(projectRoot, 'schemas'));
    expect(findSchemasDir(join(projectRoot, 'dist', 'src', 'contracts'))).toBe(join(projectRoot, 'schemas'));
    expect(SCHEMAS_DIR).toBe(join(projectRoot, 'schemas'));
  });

  it('fails with SchemaLoadError when no schemas/ folder is above', () => {
    expect(() => findSchemasDir(mkdtempSync(join(tmpdir(), 'lucius-no-schemas-')))).toThrow(SchemaLoadError);
  });
});

describe('readSchemaFile', () => {
  it('registers every schema file in schemas/ (the registry data file aside)', () => {
    const files = jsonFilesUnder(SCHEMAS_DIR)
      .map((file) =>
        relative(SCHEMAS_DIR, file)
          .replace(/\\/g, '/')
          .replace(/\.json$/, ''),
      )
      .filter((id) => id !== 'protocols.v1');

    expect([...files].sort()).toEqual([...SCHEMA_IDS].sort());
  });

  it('reads schemas whose $id matches their path', () => {
    for (const id of SCHEMA_IDS) expect(readSchemaFile(id).$id).toBe(schemaUri(id));
  });

  it('refuses a schema whose $id does not match its path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'lucius-schemas-'));
    mkdirSync(join(dir, 'steps'));
    writeFileSync(join(dir, 'steps', 'ocr.v1.json'), JSON.stringify({ $id: schemaUri('steps/sis.v1') }));

    expect(() => readSchemaFile('steps/ocr.v1', dir)).toThrow(/declares \$id/);
  });
});

describe('schema enums', () => {
  it('match the step types, failure classes and analyses the code knows', () => {
    expect(at(readSchemaFile('directive.v1'), 'properties', 'step_type', 'enum')).toEqual(STEP_TYPES);
    expect(at(readSchemaFile('protocol-registry.v1'), '$defs', 'step', 'properties', 'type', 'enum')).toEqual(
      STEP_TYPES,
    );
    expect(
      at(readSchemaFile('result.v1'), 'properties', 'failure', 'properties', 'failure_class', 'enum'),
    ).toEqual(WORKER_FAILURE_CLASSES);
    expect(at(readSchemaFile('steps/sis.v1'), 'properties', 'analysis', 'items', 'enum')).toEqual(
      SIS_ANALYSES,
    );
  });
});
