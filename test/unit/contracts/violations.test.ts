import type { ErrorObject } from 'ajv';
import { toViolation, toViolations } from '../../../src/contracts/violations';

const error = (overrides: Partial<ErrorObject>): ErrorObject => ({
  keyword: 'type',
  instancePath: '',
  schemaPath: '#',
  params: {},
  message: 'must be object',
  ...overrides,
});

describe('toViolation', () => {
  it('points a required error at the missing property, escaping it as a pointer token', () => {
    expect(
      toViolation(
        error({ keyword: 'required', instancePath: '/labels', params: { missingProperty: 'a/b~c' } }),
      ),
    ).toEqual({
      pointer: '/labels/a~1b~0c',
      message: 'required property "a/b~c" is missing',
      keyword: 'required',
    });
  });

  it('points an additionalProperties error at the extra property', () => {
    expect(
      toViolation(
        error({
          keyword: 'additionalProperties',
          instancePath: '/payload',
          params: { additionalProperty: 'x' },
        }),
      ),
    ).toEqual({
      pointer: '/payload/x',
      message: 'property "x" is not allowed',
      keyword: 'additionalProperties',
    });
  });

  it('points a property-name error at the property', () => {
    expect(
      toViolation(
        error({
          keyword: 'pattern',
          instancePath: '/labels',
          propertyName: 'bad key',
          message: 'must match pattern "^a$"',
        }),
      ),
    ).toEqual({
      pointer: '/labels/bad key',
      message: 'property name "bad key" must match pattern "^a$"',
      keyword: 'pattern',
    });
  });

  it('lists the allowed values of an enum', () => {
    expect(
      toViolation(error({ keyword: 'enum', instancePath: '/kind', params: { allowedValues: ['ack', 1] } })),
    ).toEqual({ pointer: '/kind', message: 'must be one of "ack", 1', keyword: 'enum' });
  });

  it("keeps ajv's message for other keywords", () => {
    expect(
      toViolation(error({ keyword: 'maximum', instancePath: '/lane', message: 'must be <= 63' })),
    ).toEqual({
      pointer: '/lane',
      message: 'must be <= 63',
      keyword: 'maximum',
    });
  });
});

describe('toViolations', () => {
  it('drops the if and propertyNames summaries, whose wrapped errors are reported themselves', () => {
    const violations = toViolations([
      error({ keyword: 'required', params: { missingProperty: 'output_ref' } }),
      error({ keyword: 'if', params: { failingKeyword: 'then' } }),
      error({ keyword: 'propertyNames', instancePath: '/labels', params: { propertyName: 'x y' } }),
    ]);

    expect(violations.map((v) => v.pointer)).toEqual(['/output_ref']);
  });
});
