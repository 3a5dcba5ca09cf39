/**
 * Timer trigger schedules, as the Functions host reads them:
 *
 * - NCRONTAB, six fields with seconds first (`0 *\/5 * * * *`); five fields are read as NCrontab does
 *   without seconds (second 0). Day-of-month and day-of-week must both match (NCrontab semantics,
 *   unlike Vixie cron's "either"). Evaluated in UTC unless WEBSITE_TIME_ZONE / TZ names a zone.
 * - TimeSpan `hh:mm:ss` or `d.hh:mm:ss` (an interval: the next occurrence is the last one plus the
 *   interval; the first is start-up plus the interval).
 * - `%SETTING%` is replaced by the environment variable first (the host's binding expressions).
 *
 * `parseSchedule` throws a DevhostError('invalid_schedule') naming the function and the schedule.
 */
import { Cron } from 'croner';
import { DevhostError } from '../common/errors';
import type { Schedule } from '../common/functions';
import { expandSettings } from '../common/host-config';

const TIME_SPAN = /^(?:(\d+)\.)?(\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d{1,7}))?$/;

export function parseSchedule(
  functionName: string,
  raw: string,
  env: NodeJS.ProcessEnv = process.env,
): Schedule {
  const expression = expandSettings(raw, env).trim();
  const fail = (reason: string): never => {
    throw new DevhostError(
      'invalid_schedule',
      `timer function "${functionName}": schedule "${raw}"${expression === raw ? '' : ` ("${expression}")`} ${reason}`,
    );
  };
  if (/%[^%]+%/.test(expression)) return fail('names a setting that is not set');
  const span = TIME_SPAN.exec(expression);
  if (span !== null) {
    const [days, hours, minutes, seconds] = [span[1], span[2], span[3], span[4]].map((v) =>
      Number(v ?? 0),
    ) as [number, number, number, number];
    if (hours > 23 || minutes > 59 || seconds > 59) return fail('is not a valid TimeSpan');
    const fraction = span[5] === undefined ? 0 : Number(`0.${span[5]}`) * 1000;
    const ms = (((days * 24 + hours) * 60 + minutes) * 60 + seconds) * 1000 + fraction;
    if (ms <= 0) return fail('must be a positive interval');
    return {
      expression,
      kind: 'interval',
      next: (after) => new Date(after.getTime() + ms),
      describe: () => `every ${expression}`,
    };
  }
  const fields = expression.split(/\s+/);
  if (fields.length !== 6 && fields.length !== 5) {
    return fail(
      `is neither a six-field NCRONTAB expression ("{second} {minute} {hour} {day} {month} {day-of-week}") nor a TimeSpan ("hh:mm:ss")`,
    );
  }
  const pattern = fields.length === 5 ? `0 ${expression}` : expression;
  const timezone = env.WEBSITE_TIME_ZONE ?? 'UTC';
  let cron: Cron;
  try {
    cron = new Cron(pattern, { paused: true, timezone, domAndDow: true });
  } catch (error) {
    return fail(
      `is not a valid NCRONTAB expression: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return {
    expression,
    kind: 'cron',
    next(after) {
      const next = cron.nextRun(after);
      if (next === null)
        throw new DevhostError('invalid_schedule', `schedule "${expression}" has no next occurrence`);
      return next;
    },
    describe: () => expression,
  };
}
