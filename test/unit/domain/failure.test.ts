import { BACKOFF_SCHEDULES, backoffFor } from '../../../src/domain/backoff';
import { decideRetry, FAILURE_CLASSES, isRetryableClass, scheduleFor } from '../../../src/domain/failure';

describe('decideRetry', () => {
  it('retries transient, timeout, ACK-timeout, lease-expired and dispatch failures while attempts remain', () => {
    for (const failureClass of [
      'TRANSIENT',
      'TIMEOUT',
      'ACK_TIMEOUT',
      'LEASE_EXPIRED',
      'DISPATCH_FAILED',
    ] as const) {
      expect(decideRetry(failureClass, 1, 3)).toMatchObject({ kind: 'retry', nextAttemptNo: 2 });
    }
  });

  it('fails permanent, invalid-input, unsupported and cancellation finally on the first attempt', () => {
    for (const failureClass of ['PERMANENT', 'INVALID_INPUT', 'UNSUPPORTED', 'CANCELLED'] as const) {
      expect(decideRetry(failureClass, 1, 3)).toEqual({ kind: 'final', failureClass, exhausted: false });
    }
  });

  it('fails finally with the last class kept when attempts are exhausted', () => {
    expect(decideRetry('TRANSIENT', 3, 3)).toEqual({
      kind: 'final',
      failureClass: 'TRANSIENT',
      exhausted: true,
    });
    expect(decideRetry('ACK_TIMEOUT', 1, 1)).toEqual({
      kind: 'final',
      failureClass: 'ACK_TIMEOUT',
      exhausted: true,
    });
  });

  it('classifies every failure class', () => {
    expect(FAILURE_CLASSES.filter(isRetryableClass)).toEqual([
      'TRANSIENT',
      'TIMEOUT',
      'ACK_TIMEOUT',
      'LEASE_EXPIRED',
      'DISPATCH_FAILED',
      'NOT_STARTED',
    ]);
  });
});

describe('backoffFor', () => {
  it('uses 30 s / 2 min / 10 min for dispatch failures', () => {
    expect([1, 2, 3].map((n) => backoffFor(scheduleFor('DISPATCH_FAILED'), n).delayMs)).toEqual([
      30_000, 120_000, 600_000,
    ]);
  });

  it('uses 1 min / 5 min / 15 min for ACK timeouts, lease expiries and worker failures', () => {
    for (const failureClass of ['ACK_TIMEOUT', 'LEASE_EXPIRED', 'TRANSIENT'] as const) {
      expect([1, 2, 3].map((n) => backoffFor(scheduleFor(failureClass), n).delayMs)).toEqual([
        60_000, 300_000, 900_000,
      ]);
    }
  });

  it('keeps the last delay for retries beyond the schedule', () => {
    expect(backoffFor(scheduleFor('DISPATCH_FAILED'), 9).delayMs).toBe(600_000);
    expect(BACKOFF_SCHEDULES.reply.at(-1)).toBe(900_000);
  });
});
