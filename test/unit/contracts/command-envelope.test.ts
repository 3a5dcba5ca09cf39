import fc from 'fast-check';
import { validateCommandEnvelope, type CommandEnvelope } from '../../../src/contracts/command-envelope';
import { fullEnvelope, minimalEnvelope, pointersOf, violationsOf, withChanges } from './samples';

describe('validateCommandEnvelope', () => {
  it('accepts the envelope as callers send it and returns it typed', () => {
    const result = validateCommandEnvelope(JSON.parse(JSON.stringify(minimalEnvelope)));

    expect(result.ok).toBe(true);
    if (result.ok) {
      const envelope: CommandEnvelope = result.value;
      expect(envelope.payload.steps.ocr).toEqual({ output_format: 'TEXT' });
    }
  });

  it('accepts every optional field', () => {
    expect(validateCommandEnvelope(fullEnvelope)).toEqual({ ok: true, value: fullEnvelope });
  });

  it('points at each missing required property, not at its parent', () => {
    const envelope = withChanges(minimalEnvelope, {
      tenant_id: undefined,
      schema_version: undefined,
      payload: {},
    });

    expect(pointersOf(validateCommandEnvelope(envelope))).toEqual([
      '/payload/steps',
      '/schema_version',
      '/tenant_id',
    ]);
    expect(violationsOf(validateCommandEnvelope(envelope))).toContainEqual({
      pointer: '/payload/steps',
      message: 'required property "steps" is missing',
      keyword: 'required',
    });
  });

  it('points at properties the envelope does not define', () => {
    const envelope = withChanges(minimalEnvelope, { extra: 1, payload: { steps: {}, options: {} } });

    expect(violationsOf(validateCommandEnvelope(envelope))).toEqual([
      { pointer: '/extra', message: 'property "extra" is not allowed', keyword: 'additionalProperties' },
      {
        pointer: '/payload/options',
        message: 'property "options" is not allowed',
        keyword: 'additionalProperties',
      },
    ]);
  });

  it.each(['a/b', 'a\\b', 'a#b', 'a?b', '', '-leading-dash', 'x'.repeat(129), 'tab\there'])(
    'refuses tenant_id %j, which is no valid Azure Table key',
    (tenantId) => {
      expect(
        pointersOf(validateCommandEnvelope(withChanges(minimalEnvelope, { tenant_id: tenantId }))),
      ).toEqual(['/tenant_id']);
    },
  );

  it('accepts a tenant_id of 128 key-safe characters', () => {
    expect(
      validateCommandEnvelope(withChanges(minimalEnvelope, { tenant_id: `A${'b._:-'.repeat(25)}xy` })).ok,
    ).toBe(true);
  });

  it('refuses a step payload that is not an object', () => {
    const envelope = withChanges(minimalEnvelope, { payload: { steps: { ocr: 'TEXT', embedding: [] } } });

    expect(pointersOf(validateCommandEnvelope(envelope))).toEqual([
      '/payload/steps/embedding',
      '/payload/steps/ocr',
    ]);
  });

  it.each([
    ['request_type', ''],
    ['input_ref', 'x'.repeat(2049)],
    ['output_ref', 42],
    ['routing_key', ''],
    ['idempotency_key', 'k'.repeat(257)],
    ['correlation_id', null],
    ['priority', 10],
    ['priority', -1],
    ['priority', 4.5],
    ['schema_version', 'v2'],
  ])('refuses %s = %j', (field, value) => {
    expect(pointersOf(validateCommandEnvelope(withChanges(minimalEnvelope, { [field]: value })))).toEqual([
      `/${field}`,
    ]);
  });

  it('names the only schema_version it accepts', () => {
    expect(
      violationsOf(validateCommandEnvelope(withChanges(minimalEnvelope, { schema_version: 'v2' }))),
    ).toEqual([{ pointer: '/schema_version', message: 'must be "v1"', keyword: 'const' }]);
  });

  it('points at the label whose key or value is not allowed', () => {
    const envelope = withChanges(minimalEnvelope, {
      labels: { 'bad key': 'x', 'a/b': 'y', long: 'v'.repeat(257), number: 1 },
    });

    expect(pointersOf(validateCommandEnvelope(envelope))).toEqual([
      '/labels/a~1b',
      '/labels/bad key',
      '/labels/long',
      '/labels/number',
    ]);
  });

  it('refuses more than 32 labels', () => {
    const labels = Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`l${i}`, 'v']));

    expect(violationsOf(validateCommandEnvelope(withChanges(minimalEnvelope, { labels })))).toEqual([
      { pointer: '/labels', message: 'must NOT have more than 32 properties', keyword: 'maxProperties' },
    ]);
  });

  it.each([null, 'text', 42, [], true])('refuses %j as a whole, at pointer ""', (value) => {
    expect(violationsOf(validateCommandEnvelope(value))).toEqual([
      { pointer: '', message: 'must be object', keyword: 'type' },
    ]);
  });

  it('never throws, and locates every violation with a JSON pointer', () => {
    const envelopeLike = fc.record(
      {
        tenant_id: fc.oneof(fc.string(), fc.anything()),
        request_type: fc.string(),
        input_ref: fc.string(),
        output_ref: fc.string(),
        payload: fc.oneof(
          fc.record({ steps: fc.dictionary(fc.string(), fc.oneof(fc.object(), fc.anything())) }),
          fc.anything(),
        ),
        schema_version: fc.constantFrom('v1', 'v2'),
        priority: fc.oneof(fc.integer(), fc.double()),
        labels: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.anything())),
      },
      { requiredKeys: [] },
    );
    const anyValue = fc.oneof(
      fc.anything({
        withBigInt: true,
        withBoxedValues: true,
        withDate: true,
        withMap: true,
        withSet: true,
        withNullPrototype: true,
        withSparseArray: true,
        withTypedArray: true,
      }),
      fc.jsonValue(),
      envelopeLike,
    );

    fc.assert(
      fc.property(anyValue, (value) => {
        const result = validateCommandEnvelope(value);
        if (!result.ok) {
          expect(result.violations.length).toBeGreaterThan(0);
          for (const { pointer, message } of result.violations) {
            expect(pointer === '' || pointer.startsWith('/')).toBe(true);
            expect(message.length).toBeGreaterThan(0);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
