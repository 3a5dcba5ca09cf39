/**
 * Lazy ACK (`ackAfterMs`): handleDirective with jest's fake timers and Date, replies recorded in
 * memory. A worker whose work ends before `ackAfterMs` sends the RESULT only; longer work is ACKed
 * after `ackAfterMs`, before its heartbeats and RESULT; close to `ack_deadline` the ACK goes at once.
 * Time only moves when the test advances the fake clock.
 */
import { randomUUID } from 'node:crypto';
import type { StepDirective } from '../../src/contracts/directive';
import { handleDirective, type Handled, type PlatformWorker } from '../../workers/directive-handler';
import { LeaseBook } from '../../workers/lease-book';
import { DEFAULT_TIMINGS, type PlatformMode } from '../../workers/modes';
import type { Reply } from '../../workers/replies';

const START = new Date('2030-01-01T00:00:00.000Z');
const ACK_AFTER_MS = 250;

/** A directive issued now (fake time) whose ACK deadline is `ackDeadlineInMs` away. */
function directive(ackDeadlineInMs: number, attemptNo = 1): StepDirective {
  return {
    schema_version: 'v1',
    kind: 'directive',
    job_id: randomUUID(),
    tenant_id: 't1',
    step_id: 'ocr',
    step_index: 0,
    step_type: 'OCR',
    attempt_no: attemptNo,
    lease_id: randomUUID(),
    lane: 0,
    input_ref: 'blob://in/doc.pdf',
    output_ref: 'blob://out/doc',
    payload: { output_format: 'TEXT' },
    ack_deadline: new Date(Date.now() + ackDeadlineInMs).toISOString(),
    reply_to: 'global-bus-replies-p0',
    issued_at: new Date().toISOString(),
  };
}

/** A worker in `mode` (`null`: eager ACK) that records each reply with the fake time since its creation. */
function worker(mode: PlatformMode, ackAfterMs: number | null = ACK_AFTER_MS) {
  const sent: Array<{ kind: Reply['kind']; atMs: number }> = [];
  const created = Date.now();
  const platform: PlatformWorker = {
    stepType: 'OCR',
    mode,
    timings: DEFAULT_TIMINGS,
    workerId: 'worker-1',
    ...(ackAfterMs === null ? {} : { ackAfterMs }),
    leases: new LeaseBook(),
    send: async (reply) => {
      sent.push({ kind: reply.kind, atMs: Date.now() - created });
    },
    now: () => new Date(),
  };
  return { platform, sent, kinds: () => sent.map((s) => s.kind) };
}

/** Runs the directive to its end, advancing the fake clock until the handler settles. */
async function handle(body: StepDirective, platform: PlatformWorker): Promise<Handled> {
  let handled: Handled | undefined;
  const running = handleDirective(body, platform).then((h) => {
    handled = h;
  });
  for (let step = 0; step < 100 && handled === undefined; step += 1) await jest.advanceTimersByTimeAsync(50);
  await running;
  if (handled === undefined) throw new Error('the directive was not handled in 5 s of fake time');
  return handled;
}

beforeEach(() => {
  jest.useFakeTimers({ now: START, doNotFake: ['nextTick', 'queueMicrotask'] });
});

afterEach(() => {
  jest.useRealTimers();
});

describe('handleDirective with ackAfterMs', () => {
  it('instant: sends the RESULT only, no ACK', async () => {
    const { platform, kinds } = worker({ mode: 'instant' });
    const handled = await handle(directive(30_000), platform);
    expect(handled.outcome).toBe('succeeded');
    expect(kinds()).toEqual(['result']);
  });

  it('normal (200 ms of work) under 250 ms: sends the RESULT only', async () => {
    const { platform, kinds } = worker({ mode: 'normal' });
    expect((await handle(directive(30_000), platform)).outcome).toBe('succeeded');
    expect(kinds()).toEqual(['result']);
  });

  it('slow (3.5 s): ACKs after 250 ms, then heartbeats, then the RESULT', async () => {
    const { platform, sent, kinds } = worker({ mode: 'slow' });
    expect((await handle(directive(30_000), platform)).outcome).toBe('succeeded');
    expect(kinds()).toEqual(['ack', 'heartbeat', 'heartbeat', 'heartbeat', 'result']);
    expect(sent[0]?.atMs).toBe(ACK_AFTER_MS);
  });

  it('flaky and failing: the RESULT FAILED implies the ACK', async () => {
    for (const mode of [{ mode: 'flaky', failAttempts: 1 }, { mode: 'failing' }] as const) {
      const { platform, kinds } = worker(mode);
      expect((await handle(directive(30_000), platform)).outcome).toBe('failed');
      expect(kinds()).toEqual(['result']);
    }
  });

  it('with an ackAfterMs shorter than the work, flaky and failing ACK before the RESULT too', async () => {
    for (const mode of [{ mode: 'flaky', failAttempts: 1 }, { mode: 'failing' }] as const) {
      const { platform, sent, kinds } = worker(mode, 100);
      expect((await handle(directive(30_000), platform)).outcome).toBe('failed');
      expect(kinds()).toEqual(['ack', 'result']);
      expect(sent[0]?.atMs).toBe(100);
    }
  });

  it('ACKs at once when less than 2 × ackAfterMs remain before ack_deadline', async () => {
    const { platform, sent, kinds } = worker({ mode: 'normal' });
    expect((await handle(directive(2 * ACK_AFTER_MS - 1), platform)).outcome).toBe('succeeded');
    expect(kinds()).toEqual(['ack', 'result']);
    expect(sent[0]?.atMs).toBe(0);
  });

  it('ACKs before the deadline comes within 2 × ackAfterMs while the work runs', async () => {
    // 600 ms left: the ACK is due at 600 - 2 × 250 = 100 ms, before the 250 ms of lazy waiting.
    const { platform, sent, kinds } = worker({ mode: 'slow' });
    expect((await handle(directive(600), platform)).outcome).toBe('succeeded');
    expect(kinds()[0]).toBe('ack');
    expect(sent[0]?.atMs).toBe(100);
  });

  it('counts a heartbeat sent before the ACK as the ACK', async () => {
    // ackAfterMs above the heartbeat interval (1 s): the first heartbeat goes first, no ACK after it.
    const { platform, kinds } = worker({ mode: 'slow' }, 1500);
    expect((await handle(directive(30_000), platform)).outcome).toBe('succeeded');
    expect(kinds()).toEqual(['heartbeat', 'heartbeat', 'heartbeat', 'result']);
  });

  it('silent and invalid are unchanged: no reply, or one broken RESULT', async () => {
    const silent = worker({ mode: 'silent' });
    expect((await handle(directive(30_000), silent.platform)).outcome).toBe('silent');
    expect(silent.kinds()).toEqual([]);
    const invalid = worker({ mode: 'invalid' });
    expect((await handle(directive(30_000), invalid.platform)).outcome).toBe('invalid-reply');
    expect(invalid.kinds()).toEqual(['result']);
  });

  it('a cancel while the lazy ACK waits: no ACK, the RESULT FAILED CANCELLED only', async () => {
    const { platform, kinds } = worker({ mode: 'normal' });
    const body = directive(30_000);
    const running = handleDirective(body, platform);
    await jest.advanceTimersByTimeAsync(100);
    platform.leases.cancel(body.lease_id, 'job cancelled');
    await jest.advanceTimersByTimeAsync(1_000);
    expect((await running).outcome).toBe('cancelled');
    expect(kinds()).toEqual(['result']);
  });

  it('an ACK that cannot be sent interrupts the attempt (abandoned for redelivery), as an eager one does', async () => {
    const { platform } = worker({ mode: 'slow' });
    const failing: PlatformWorker = {
      ...platform,
      send: async (reply) => {
        if (reply.kind === 'ack') throw new Error('bus unavailable');
      },
    };
    const handled = await handle(directive(30_000), failing);
    expect(handled).toMatchObject({ outcome: 'interrupted', settlement: { action: 'abandon' } });
  });
});

describe('handleDirective without ackAfterMs', () => {
  it('ACKs first in every working mode', async () => {
    for (const mode of [
      { mode: 'instant' },
      { mode: 'normal' },
      { mode: 'flaky', failAttempts: 1 },
      { mode: 'failing' },
    ] as const) {
      const { platform, sent, kinds } = worker(mode, null);
      await handle(directive(30_000), platform);
      expect(kinds()).toEqual(['ack', 'result']);
      expect(sent[0]?.atMs).toBe(0);
    }
    const slow = worker({ mode: 'slow' }, null);
    await handle(directive(30_000), slow.platform);
    expect(slow.kinds()).toEqual(['ack', 'heartbeat', 'heartbeat', 'heartbeat', 'result']);
  });
});
