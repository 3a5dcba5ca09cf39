/**
 * ISO 8601 durations as Service Bus configuration writes them (`PT1M`, `PT10M`, `P14D`,
 * `P10675199DT2H48M5.4775807S` = TimeSpan.MaxValue). Weeks, days, hours, minutes and (fractional)
 * seconds are supported; years and months are rejected because they have no fixed length.
 */
const DURATION = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:[.,]\d+)?)S)?)?$/;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Milliseconds, or undefined when `text` is not a supported ISO 8601 duration. */
export function parseIsoDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (match === null) return undefined;
  const [, weeks, days, hours, minutes, seconds] = match;
  if ([weeks, days, hours, minutes, seconds].every((part) => part === undefined)) return undefined;
  if (text.trim().endsWith('T')) return undefined;
  const number = (part: string | undefined): number =>
    part === undefined ? 0 : Number(part.replace(',', '.'));
  return Math.round(
    number(weeks) * 7 * DAY +
      number(days) * DAY +
      number(hours) * HOUR +
      number(minutes) * MINUTE +
      number(seconds) * SECOND,
  );
}
