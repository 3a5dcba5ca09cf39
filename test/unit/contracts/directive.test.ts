import { validateDirective, type Directive } from '../../../src/contracts/directive';
import { cancelDirective, pointersOf, stepDirective, violationsOf, withChanges } from './samples';

describe('validateDirective', () => {
  it('accepts a step directive and narrows it by kind', () => {
    const result = validateDirective(stepDirective);

    expect(result).toEqual({ ok: true, value: stepDirective });
    if (result.ok) {
      const directive: Directive = result.value;
      expect(directive.kind === 'directive' ? directive.payload : undefined).toEqual({
        output_format: 'TEXT',
      });
    }
  });

  it('accepts a cancel that carries only the attempt it calls off', () => {
    expect(validateDirective(cancelDirective).ok).toBe(true);
  });

  it('requires the work itself on a step directive', () => {
    const directive = withChanges(stepDirective, {
      input_ref: undefined,
      output_ref: undefined,
      payload: undefined,
      ack_deadline: undefined,
    });

    expect(pointersOf(validateDirective(directive))).toEqual([
      '/ack_deadline',
      '/input_ref',
      '/output_ref',
      '/payload',
    ]);
  });

  it('requires the attempt identity on both kinds', () => {
    for (const sample of [stepDirective, cancelDirective]) {
      const directive = withChanges(sample, {
        attempt_no: undefined,
        lease_id: undefined,
        reply_to: undefined,
      });
      expect(pointersOf(validateDirective(directive))).toEqual(['/attempt_no', '/lease_id', '/reply_to']);
    }
  });

  it('reports only the kind when it is missing', () => {
    const directive = withChanges(cancelDirective, { kind: undefined });

    expect(pointersOf(validateDirective(directive))).toEqual(['/kind']);
  });

  it.each([
    ['kind', 'retry'],
    ['job_id', 'job/1'],
    ['step_id', 'OCR'],
    ['step_index', -1],
    ['step_type', 'TRANSLATE'],
    ['attempt_no', 0],
    ['lease_id', 'not-a-uuid'],
    ['lane', 64],
    ['payload', 'TEXT'],
    ['ack_deadline', '2025-01-01 00:00:30'],
    ['lease_expires_at', 'tomorrow'],
    ['result_deadline', '2025-01-01T00:15:00'],
    ['issued_at', 1735689600000],
    ['reply_to', ''],
    ['callback_token', ''],
    ['callback_token', 42],
    ['callback_token', 'x'.repeat(4097)],
  ])('refuses %s = %j', (field, value) => {
    expect(pointersOf(validateDirective(withChanges(stepDirective, { [field]: value })))).toEqual([
      `/${field}`,
    ]);
  });

  it('lists the step types it knows', () => {
    expect(violationsOf(validateDirective(withChanges(stepDirective, { step_type: 'TRANSLATE' })))).toEqual([
      { pointer: '/step_type', message: 'must be one of "OCR", "EMBEDDING", "SIS"', keyword: 'enum' },
    ]);
  });

  it('accepts a directive with its callback token, and one without (published before tokens existed)', () => {
    const token = `lcb1.2026-01.${Buffer.from('{}').toString('base64url')}.${'A'.repeat(43)}`;
    expect(validateDirective({ ...stepDirective, callback_token: token })).toEqual({
      ok: true,
      value: { ...stepDirective, callback_token: token },
    });
    expect(stepDirective).not.toHaveProperty('callback_token');
    expect(validateDirective(stepDirective).ok).toBe(true);
  });

  it('refuses properties it does not define', () => {
    expect(pointersOf(validateDirective(withChanges(stepDirective, { priority: 5 })))).toEqual(['/priority']);
  });
});
