import { isoDuration, jsonFileContent } from '../../../scripts/generators/generated-file';
import { prettierFormatted } from './generated-files';

describe('jsonFileContent', () => {
  it('writes JSON exactly as Prettier formats it', () => {
    const value = {
      short: ['a', 'b', 3, true, null],
      empty: [],
      nothing: {},
      long: Array.from({ length: 12 }, (_, index) => `a-fairly-long-value-${index}`),
      nearTheEdge: ['x'.repeat(90)],
      nested: { objects: [{ a: 1 }, { b: ['c'] }], deeper: { deepest: ['y'.repeat(80), 'z'] } },
    };
    const content = jsonFileContent(value);
    expect(prettierFormatted('infra/generated/example.json', content)).toBe(content);
    expect(JSON.parse(content)).toEqual(value);
  });
});

describe('isoDuration', () => {
  it('writes the shortest ISO 8601 duration', () => {
    expect(isoDuration(14 * 86_400)).toBe('P14D');
    expect(isoDuration(7200)).toBe('PT2H');
    expect(isoDuration(600)).toBe('PT10M');
    expect(isoDuration(90)).toBe('PT90S');
  });

  it('rejects durations that are not positive whole seconds', () => {
    expect(() => isoDuration(0)).toThrow(RangeError);
    expect(() => isoDuration(1.5)).toThrow(RangeError);
  });
});
