import { validateAck, type Ack } from '../../../src/contracts/ack';
import { ack, pointersOf, withChanges } from './samples';

describe('validateAck', () => {
  it('accepts an ACK with every optional field', () => {
    expect(validateAck(ack)).toEqual({ ok: true, value: ack });
  });

  it('accepts an ACK without worker_id or lease_minutes', () => {
    const { worker_id: _worker, lease_minutes: _lease, ...rest } = ack;
    const minimal: Ack = rest;

    expect(validateAck(minimal)).toEqual({ ok: true, value: minimal });
  });

  it('points at each missing echo of the attempt', () => {
    const reply = withChanges(ack, {
      job_id: undefined,
      step_id: undefined,
      attempt_no: undefined,
      lease_id: undefined,
    });

    expect(pointersOf(validateAck(reply))).toEqual(['/attempt_no', '/job_id', '/lease_id', '/step_id']);
  });

  it.each([
    ['kind', 'result'],
    ['schema_version', 'v0'],
    ['attempt_no', 1.5],
    ['lease_id', 'LEASE'],
    ['worker_id', ''],
    ['acked_at', '2025-01-01'],
    ['lease_minutes', 0],
    ['lease_minutes', 61],
  ])('refuses %s = %j', (field, value) => {
    expect(pointersOf(validateAck(withChanges(ack, { [field]: value })))).toEqual([`/${field}`]);
  });

  it('refuses properties it does not define', () => {
    expect(pointersOf(validateAck(withChanges(ack, { status: 'OK' })))).toEqual(['/status']);
  });
});
