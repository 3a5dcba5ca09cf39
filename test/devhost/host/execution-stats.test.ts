/**
 * devhost's execution accounting (devhost/common/execution-stats.ts) on a fake monotonic clock and a
 * fake RSS: counts, durations, busy time and overlap are plain arithmetic on the times set here.
 */
import { ExecutionStats, executionsBetween } from '../../../devhost/common/execution-stats';

function fakeClock(): { now: () => number; set: (ms: number) => void } {
  let current = 0;
  return { now: () => current, set: (ms) => (current = ms) };
}

describe('ExecutionStats', () => {
  it('counts executions and their durations by function and by kind', () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    const a = stats.begin('submit', 'http');
    clock.set(30);
    a('succeeded');
    const b = stats.begin('work', 'activity');
    clock.set(40);
    b('failed');
    const c = stats.begin('submit', 'http');
    clock.set(60);
    c('succeeded');

    const snapshot = stats.snapshot();
    expect(snapshot.total).toEqual({ count: 3, failed: 1, durationMs: 60, busyMs: 60, maxDurationMs: 30 });
    expect(snapshot.byKind).toEqual({
      http: { count: 2, failed: 0, durationMs: 50, busyMs: 50, maxDurationMs: 30 },
      activity: { count: 1, failed: 1, durationMs: 10, busyMs: 10, maxDurationMs: 10 },
    });
    expect(snapshot.byFunction.submit).toEqual({
      kind: 'http',
      count: 2,
      failed: 0,
      durationMs: 50,
      busyMs: 50,
      maxDurationMs: 30,
    });
    expect(snapshot.meanDurationMs).toBe(20);
  });

  it('counts busy time once while executions overlap, so overlap is durations over busy time', () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    const first = stats.begin('orchestrator', 'orchestration'); // runs 0..100
    clock.set(20);
    const second = stats.begin('work', 'activity'); // runs 20..80
    clock.set(80);
    second('succeeded');
    clock.set(100);
    first('succeeded');
    clock.set(500); // idle: not busy
    const third = stats.begin('work', 'activity'); // runs 500..540
    clock.set(540);
    third('succeeded');

    const snapshot = stats.snapshot();
    expect(snapshot.busyMs).toBe(140); // 0..100 and 500..540
    expect(snapshot.total.durationMs).toBe(200); // 100 + 60 + 40
    expect(snapshot.meanOverlap).toBeCloseTo(200 / 140, 10);
    // each kind's own busy time: the activities ran 20..80 and 500..540, the orchestrator 0..100
    expect(snapshot.byKind.activity).toMatchObject({ durationMs: 100, busyMs: 100 });
    expect(snapshot.byKind.orchestration).toMatchObject({ durationMs: 100, busyMs: 100 });
  });

  it('counts busy time per function: overlapping executions of one function share it', () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    const a = stats.begin('reply', 'serviceBus'); // 0..50
    clock.set(10);
    const b = stats.begin('reply', 'serviceBus'); // 10..70
    const other = stats.begin('submit', 'http'); // 10..20
    clock.set(20);
    other('succeeded');
    clock.set(50);
    a('succeeded');
    clock.set(70);
    b('succeeded');
    const snapshot = stats.snapshot();
    expect(snapshot.byFunction.reply).toMatchObject({ count: 2, durationMs: 110, busyMs: 70 });
    expect(snapshot.byFunction.submit).toMatchObject({ count: 1, durationMs: 10, busyMs: 10 });
    expect(snapshot.busyMs).toBe(70);
  });

  it('has no means before anything ran, and counts a running execution in busy time only', () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    expect(stats.snapshot()).toMatchObject({ busyMs: 0, meanDurationMs: null, meanOverlap: null });
    stats.begin('slow', 'timer');
    clock.set(70);
    expect(stats.snapshot()).toMatchObject({
      running: 1,
      busyMs: 70,
      total: { count: 0 },
      byKind: { timer: { count: 0, busyMs: 70 } },
      byFunction: { slow: { count: 0, busyMs: 70 } },
    });
  });

  it('ends an execution once, however often its end is called', () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    const end = stats.begin('f', 'http');
    clock.set(10);
    end('succeeded');
    clock.set(50);
    end('failed');
    expect(stats.snapshot()).toMatchObject({ running: 0, busyMs: 10, total: { count: 1, failed: 0 } });
  });

  it('counts a wrapped handler that returns, resolves or throws', async () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    const sync = stats.wrap('sync', 'orchestration', (x: number) => x + 1);
    const later = stats.wrap('later', 'activity', async (x: number) => {
      clock.set(clock.now() + 25);
      return Promise.resolve(x * 2);
    });
    const failing = stats.wrap('failing', 'serviceBus', () => {
      throw new Error('no');
    });
    await expect(sync(1)).resolves.toBe(2);
    await expect(later(4)).resolves.toBe(8);
    await expect(failing()).rejects.toThrow('no');
    const snapshot = stats.snapshot();
    expect(snapshot.byFunction.later).toMatchObject({ count: 1, durationMs: 25 });
    expect(snapshot.byKind.serviceBus).toMatchObject({ count: 1, failed: 1 });
    expect(snapshot.total.count).toBe(3);
  });

  it('samples RSS as executions end, at most once per sample interval, and at each snapshot', () => {
    const clock = fakeClock();
    const samples = [100, 300, 200, 150];
    let reads = 0;
    const stats = new ExecutionStats({
      now: clock.now,
      rss: () => samples[reads++] ?? 0,
      rssSampleMs: 100,
    });
    stats.begin('f', 'http')('succeeded'); // t=0: sampled (100)
    clock.set(50);
    stats.begin('f', 'http')('succeeded'); // t=50: too soon
    clock.set(120);
    stats.begin('f', 'http')('succeeded'); // t=120: sampled (300)
    expect(reads).toBe(2);
    expect(stats.snapshot().memory).toEqual({ rssBytes: 200, maxRssBytes: 300 });
  });

  it('subtracts two snapshots into an interval with its own means', () => {
    const clock = fakeClock();
    const stats = new ExecutionStats({ now: clock.now, rss: () => 1 });
    stats.begin('warm', 'http');
    clock.set(1_000);
    const before = stats.snapshot(); // the warm-up execution is still running
    const other = stats.begin('work', 'activity'); // 1000..1040, overlapping the warm-up one
    clock.set(1_040);
    other('succeeded');
    const after = stats.snapshot();

    const interval = executionsBetween(after, before);
    expect(interval.busyMs).toBe(40);
    expect(interval.total).toEqual({ count: 1, failed: 0, durationMs: 40, busyMs: 40 });
    expect(interval.byKind).toEqual({
      activity: { count: 1, failed: 0, durationMs: 40, busyMs: 40 },
      http: { count: 0, failed: 0, durationMs: 0, busyMs: 40 }, // the warm-up execution, still running
    });
    expect(interval.byFunction.work).toEqual({
      kind: 'activity',
      count: 1,
      failed: 0,
      durationMs: 40,
      busyMs: 40,
    });
    expect(interval.meanDurationMs).toBe(40);
    expect(interval.meanOverlap).toBe(1);
  });
});
