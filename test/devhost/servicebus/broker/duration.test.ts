import { parseIsoDuration } from '../../../../devhost/servicebus/broker/duration';

describe('parseIsoDuration', () => {
  it('reads hours, minutes, seconds, days and weeks as milliseconds', () => {
    expect(parseIsoDuration('PT1M')).toBe(60_000);
    expect(parseIsoDuration('PT1H')).toBe(3_600_000);
    expect(parseIsoDuration('PT20S')).toBe(20_000);
    expect(parseIsoDuration('PT0.5S')).toBe(500);
    expect(parseIsoDuration('P14D')).toBe(14 * 86_400_000);
    expect(parseIsoDuration('P1W')).toBe(7 * 86_400_000);
    expect(parseIsoDuration('P1DT2H3M4S')).toBe(86_400_000 + 7_200_000 + 180_000 + 4_000);
  });

  it('reads TimeSpan.MaxValue as Azure writes it', () => {
    expect(parseIsoDuration('P10675199DT2H48M5.4775807S')).toBeGreaterThan(10_675_199 * 86_400_000);
  });

  it('rejects text that is not a supported duration', () => {
    for (const text of ['', 'P', 'PT', '1M', 'PT1', 'P1Y', 'P1M', 'P1DT', 'PT-1M', 'one minute']) {
      expect(parseIsoDuration(text)).toBeUndefined();
    }
  });
});
