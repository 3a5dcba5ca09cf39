import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_PROTOCOL_REGISTRY_PATH,
  ProtocolRegistryError,
  loadProtocolRegistry,
  parseProtocolRegistry,
} from '../../../src/config/protocol-registry';
import { SCHEMAS_DIR } from '../../../src/contracts/schema-files';

const shipped = (): Record<string, unknown> =>
  JSON.parse(readFileSync(DEFAULT_PROTOCOL_REGISTRY_PATH, 'utf8'));

function registryWith(protocols: Record<string, unknown>): Record<string, unknown> {
  return { schema_version: 'v1', protocols };
}

function refusal(json: unknown): ProtocolRegistryError {
  try {
    parseProtocolRegistry(json, 'test-registry');
  } catch (error) {
    if (error instanceof ProtocolRegistryError) return error;
    throw error;
  }
  throw new Error('expected the registry to be refused, but it loaded');
}

describe('loadProtocolRegistry', () => {
  it('reads schemas/protocols.v1.json by default', () => {
    expect(DEFAULT_PROTOCOL_REGISTRY_PATH).toBe(join(SCHEMAS_DIR, 'protocols.v1.json'));
    expect(loadProtocolRegistry().version).toBe('v1');
  });

  it('holds the five protocols with their steps in order', () => {
    const registry = loadProtocolRegistry();
    const stepsOf = (requestType: string): string[] =>
      (registry.protocols.get(requestType)?.steps ?? []).map(
        (s) => `${s.stepId}:${s.type}:${s.payloadSchema}`,
      );

    expect([...registry.protocols.keys()]).toEqual([
      'OCR',
      'EMBEDDING',
      'SIS',
      'OCR->EMBEDDING',
      'OCR->EMBEDDING->SIS',
    ]);
    expect(stepsOf('OCR')).toEqual(['ocr:OCR:steps/ocr.v1']);
    expect(stepsOf('EMBEDDING')).toEqual(['embedding:EMBEDDING:steps/embedding.v1']);
    expect(stepsOf('SIS')).toEqual(['sis:SIS:steps/sis.v1']);
    expect(stepsOf('OCR->EMBEDDING')).toEqual([
      'ocr:OCR:steps/ocr.v1',
      'embedding:EMBEDDING:steps/embedding.v1',
    ]);
    expect(stepsOf('OCR->EMBEDDING->SIS')).toEqual([
      'ocr:OCR:steps/ocr.v1',
      'embedding:EMBEDDING:steps/embedding.v1',
      'sis:SIS:steps/sis.v1',
    ]);
    expect(registry.protocols.get('OCR')).toMatchObject({
      requestType: 'OCR',
      description: 'Extract text from a document.',
    });
  });

  it('hands out protocols that cannot be changed', () => {
    const protocol = loadProtocolRegistry().protocols.get('OCR->EMBEDDING');

    expect(Object.isFrozen(protocol)).toBe(true);
    expect(Object.isFrozen(protocol?.steps)).toBe(true);
    expect(Object.isFrozen(protocol?.steps[0])).toBe(true);
  });

  it('loads a registry from another path', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lucius-registry-')), 'protocols.json');
    writeFileSync(
      file,
      JSON.stringify(
        registryWith({ OCR: { steps: [{ step_id: 'ocr', type: 'OCR', payload_schema: 'steps/ocr.v1' }] } }),
      ),
    );

    const registry = loadProtocolRegistry(file);

    expect([...registry.protocols.keys()]).toEqual(['OCR']);
    expect(registry.protocols.get('OCR')?.description).toBeUndefined();
  });

  it('refuses a missing file, naming it', () => {
    const file = join(tmpdir(), 'lucius-no-such-registry.json');

    expect(() => loadProtocolRegistry(file)).toThrow(ProtocolRegistryError);
    expect(() => loadProtocolRegistry(file)).toThrow(
      `protocol registry ${file} is invalid: cannot read it as JSON`,
    );
  });

  it('refuses a file that is not JSON', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'lucius-registry-')), 'protocols.json');
    writeFileSync(file, '{ "schema_version": "v1", ');

    expect(() => loadProtocolRegistry(file)).toThrow(/cannot read it as JSON/);
  });
});

describe('parseProtocolRegistry', () => {
  it('accepts the shipped registry document', () => {
    expect(parseProtocolRegistry(shipped(), 'shipped').protocols.size).toBe(5);
  });

  it('refuses a registry as a system fault with code invalid_protocol_registry', () => {
    const error = refusal({ schema_version: 'v1', protocols: {} });

    expect(error).toMatchObject({
      code: 'invalid_protocol_registry',
      fault: 'system',
      retryable: false,
      source: 'test-registry',
    });
    expect(error.violations).toEqual([
      { pointer: '/protocols', message: 'must NOT have fewer than 1 properties', keyword: 'minProperties' },
    ]);
  });

  it('names a step id used twice in one protocol', () => {
    const error = refusal(
      registryWith({
        'OCR->OCR': {
          steps: [
            { step_id: 'ocr', type: 'OCR', payload_schema: 'steps/ocr.v1' },
            { step_id: 'ocr', type: 'OCR', payload_schema: 'steps/ocr.v1' },
          ],
        },
      }),
    );

    expect(error.message).toBe(
      'protocol registry test-registry is invalid: /protocols/OCR->OCR/steps/1/step_id: step_id "ocr" is used twice in OCR->OCR',
    );
  });

  it('allows the same step id in different protocols', () => {
    const step = { step_id: 'ocr', type: 'OCR', payload_schema: 'steps/ocr.v1' };

    expect(
      parseProtocolRegistry(registryWith({ A: { steps: [step] }, B: { steps: [step] } }), 'x').protocols.size,
    ).toBe(2);
  });

  it('names a payload schema that does not exist', () => {
    const error = refusal(
      registryWith({ OCR: { steps: [{ step_id: 'ocr', type: 'OCR', payload_schema: 'steps/ocr.v7' }] } }),
    );

    expect(error.violations).toEqual([
      {
        pointer: '/protocols/OCR/steps/0/payload_schema',
        message: 'unknown step payload schema "steps/ocr.v7"',
        keyword: 'knownSchema',
      },
    ]);
    expect(error.message).toContain('steps/ocr.v7');
  });

  it('lists every schema problem at once', () => {
    const error = refusal({
      schema_version: 'v2',
      protocols: {
        OCR: { steps: [{ step_id: 'OCR', type: 'PDF', payload_schema: 'ocr' }] },
        EMPTY: { steps: [] },
        'has space': { steps: [{ step_id: 'x', type: 'OCR', payload_schema: 'steps/ocr.v1' }], owner: 'me' },
      },
    });

    expect(error.violations.map((v) => v.pointer).sort()).toEqual([
      '/protocols/EMPTY/steps',
      '/protocols/OCR/steps/0/payload_schema',
      '/protocols/OCR/steps/0/step_id',
      '/protocols/OCR/steps/0/type',
      '/protocols/has space',
      '/protocols/has space/owner',
      '/schema_version',
    ]);
    for (const { pointer } of error.violations) expect(error.message).toContain(pointer);
  });

  it.each([null, [], 'protocols', 1])('refuses %j as a registry', (json) => {
    expect(refusal(json).violations).toEqual([{ pointer: '', message: 'must be object', keyword: 'type' }]);
  });
});
