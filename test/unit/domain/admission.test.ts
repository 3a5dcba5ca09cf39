/** runDeadline: the deadline a run of a job's orchestration enforces. */
import fc from 'fast-check';
import { runDeadline } from '../../../src/domain/admission';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (seconds: number) => new Date(T0 + seconds * 1000).toISOString();

describe('runDeadline', () => {
  it('keeps the admission deadline for a job never redriven, whenever the run starts', () => {
    const job = { createdAt: at(0), deadlineAt: at(600), redrives: 0 };
    expect(runDeadline(job, 3600, new Date(T0 + 5000_000))).toBe(at(600));
  });

  it('gives a redriven job a new window of its own length from the run start', () => {
    const job = { createdAt: at(0), deadlineAt: at(600), redrives: 1 };
    expect(runDeadline(job, 3600, new Date(T0 + 1200_000))).toBe(at(1800));
    // Never earlier than the admission deadline.
    expect(runDeadline(job, 3600, new Date(T0 - 100_000))).toBe(at(600));
  });

  it('falls back to the default timeout for a job admitted without a deadline', () => {
    expect(runDeadline({ createdAt: at(0), redrives: 0 }, 3600, new Date(T0))).toBe(at(3600));
  });

  it('never ends a run before the admission deadline nor before a full window from its start when redriven', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 86_400 }),
        fc.integer({ min: 0, max: 5 }),
        fc.integer({ min: 0, max: 200_000 }),
        (window, redrives, startOffset) => {
          const job = { createdAt: at(0), deadlineAt: at(window), redrives };
          const deadline = Date.parse(runDeadline(job, 3600, new Date(T0 + startOffset * 1000)));
          expect(deadline).toBeGreaterThanOrEqual(T0 + window * 1000);
          if (redrives > 0) expect(deadline).toBeGreaterThanOrEqual(T0 + (startOffset + window) * 1000);
          else expect(deadline).toBe(T0 + window * 1000);
        },
      ),
    );
  });
});
