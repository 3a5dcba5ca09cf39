import { ManualClock } from '../../../devhost/common/clock';
import { parseSchedule } from '../../../devhost/timers/schedule';
import { TimerScheduler, type TimerInfo } from '../../../devhost/timers/timer-scheduler';

describe('parseSchedule', () => {
  it('reads six-field NCRONTAB with seconds first, in UTC', () => {
    const schedule = parseSchedule('f', '30 0 9 * * 1-5', {});
    expect(schedule.next(new Date('2024-01-06T00:00:00Z')).toISOString()).toBe('2024-01-08T09:00:30.000Z');
  });

  it('requires both day-of-month and day-of-week to match, as NCrontab does', () => {
    // 13th of a month that is a Friday: the next is September 2024.
    const schedule = parseSchedule('f', '0 0 0 13 * 5', {});
    expect(schedule.next(new Date('2024-01-01T00:00:00Z')).toISOString()).toBe('2024-09-13T00:00:00.000Z');
  });

  it('reads TimeSpan intervals, with days', () => {
    expect(parseSchedule('f', '00:05:00', {}).next(new Date('2024-01-01T00:00:00Z')).toISOString()).toBe(
      '2024-01-01T00:05:00.000Z',
    );
    expect(parseSchedule('f', '1.02:00:00', {}).next(new Date('2024-01-01T00:00:00Z')).toISOString()).toBe(
      '2024-01-02T02:00:00.000Z',
    );
  });

  it('expands %SETTING% from the environment', () => {
    expect(parseSchedule('f', '%S%', { S: '0 0 * * * *' }).expression).toBe('0 0 * * * *');
  });

  it('refuses a bad schedule, naming the function', () => {
    expect(() => parseSchedule('sweep', 'every minute', {})).toThrow(
      /timer function "sweep": schedule "every minute"/,
    );
    expect(() => parseSchedule('sweep', '0 99 * * * *', {})).toThrow(/not a valid NCRONTAB expression/);
    expect(() => parseSchedule('sweep', '00:00:00', {})).toThrow(/positive interval/);
  });
});

describe('TimerScheduler', () => {
  function setup(runOnStartup = false) {
    const clock = new ManualClock('2024-01-01T00:00:30.000Z');
    const runs: { at: string; info: TimerInfo }[] = [];
    const scheduler = new TimerScheduler(clock, async (_name, info) => {
      runs.push({ at: clock.now().toISOString(), info });
    });
    scheduler.add({ name: 't', schedule: parseSchedule('t', '0 * * * * *', {}), runOnStartup });
    return { clock, runs, scheduler };
  }

  it('fires at each occurrence as the clock advances', async () => {
    const { clock, runs, scheduler } = setup();
    await scheduler.start();
    await clock.advance(150_000);
    expect(runs.map((run) => [run.at, run.info.isPastDue])).toEqual([
      ['2024-01-01T00:01:00.000Z', false],
      ['2024-01-01T00:02:00.000Z', false],
      ['2024-01-01T00:03:00.000Z', false],
    ]);
    expect(runs[1]?.info.scheduleStatus).toEqual({
      last: '2024-01-01T00:01:00.000Z',
      next: '2024-01-01T00:03:00.000Z',
      lastUpdated: '2024-01-01T00:02:00.000Z',
    });
    await scheduler.stop();
  });

  it('runs once, past due, when occurrences were missed, then resumes the schedule', async () => {
    const { clock, runs, scheduler } = setup();
    await scheduler.start();
    await clock.set(new Date('2024-01-01T00:05:10.000Z'), { jump: true });
    await clock.set(new Date('2024-01-01T00:06:00.000Z'));
    expect(runs.map((run) => [run.at, run.info.isPastDue])).toEqual([
      ['2024-01-01T00:05:10.000Z', true],
      ['2024-01-01T00:06:00.000Z', false],
    ]);
    await scheduler.stop();
  });

  it('runs a runOnStartup timer at start and on demand with triggerNow', async () => {
    const { runs, scheduler } = setup(true);
    await scheduler.start();
    expect(await scheduler.triggerNow('t')).toBe(true);
    expect(await scheduler.triggerNow('other')).toBe(false);
    expect(runs.map((run) => [run.at, run.info.isPastDue])).toEqual([
      ['2024-01-01T00:00:30.000Z', false],
      ['2024-01-01T00:00:30.000Z', false],
    ]);
    await scheduler.stop();
  });

  it('stops firing after stop', async () => {
    const { clock, runs, scheduler } = setup();
    await scheduler.start();
    await scheduler.stop();
    await clock.advance(600_000);
    expect(runs).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
