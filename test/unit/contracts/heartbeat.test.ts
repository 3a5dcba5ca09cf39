import { validateHeartbeat } from '../../../src/contracts/heartbeat';
import { heartbeat, pointersOf, withChanges } from './samples';

describe('validateHeartbeat', () => {
  it('accepts a heartbeat with an extension and progress', () => {
    expect(validateHeartbeat(heartbeat)).toEqual({ ok: true, value: heartbeat });
  });

  it('accepts a bare heartbeat, which extends by the default lease', () => {
    expect(
      validateHeartbeat(withChanges(heartbeat, { extend_minutes: undefined, progress: undefined })).ok,
    ).toBe(true);
  });

  it.each([
    ['extend_minutes', 0],
    ['extend_minutes', 61],
    ['extend_minutes', 2.5],
    ['progress', -1],
    ['progress', 100.5],
    ['sent_at', undefined],
    ['lease_id', undefined],
    ['kind', 'ack'],
  ])('refuses %s = %j', (field, value) => {
    expect(pointersOf(validateHeartbeat(withChanges(heartbeat, { [field]: value })))).toEqual([`/${field}`]);
  });

  it('accepts progress at both ends of its range', () => {
    expect(validateHeartbeat(withChanges(heartbeat, { progress: 0 })).ok).toBe(true);
    expect(validateHeartbeat(withChanges(heartbeat, { progress: 100 })).ok).toBe(true);
  });
});
