/** The demo workers' mode spec (LUCIUS_DEMO_WORKERS, --modes) and the platforms they serve. */
import { PLATFORM_SUBSCRIPTIONS as LUCIUS_SUBSCRIPTIONS } from '../../src/messaging/topology';
import { WorkerConfigError } from '../../workers/errors';
import { describeModes, parseWorkerModes } from '../../workers/modes';
import { PLATFORM_SUBSCRIPTIONS } from '../../workers/platforms';

describe('parseWorkerModes', () => {
  it('gives every step type normal for an empty spec', () => {
    expect(describeModes(parseWorkerModes(''))).toBe('OCR=normal, EMBEDDING=normal, SIS=normal');
  });

  it('sets modes per step type, with flaky taking the attempts to fail', () => {
    expect(parseWorkerModes('OCR=flaky:2, embedding=SLOW')).toEqual({
      OCR: { mode: 'flaky', failAttempts: 2 },
      EMBEDDING: { mode: 'slow' },
      SIS: { mode: 'normal' },
    });
    expect(parseWorkerModes('OCR=flaky').OCR).toEqual({ mode: 'flaky', failAttempts: 1 });
  });

  it('applies a bare mode to every step type not named', () => {
    expect(describeModes(parseWorkerModes('SIS=silent,off'))).toBe('OCR=off, EMBEDDING=off, SIS=silent');
  });

  it('reports every bad entry at once', () => {
    let caught: unknown;
    try {
      parseWorkerModes('PDF=normal,OCR=sleepy,EMBEDDING=flaky:0,SIS=slow:3');
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(WorkerConfigError);
    expect((caught as WorkerConfigError).problems).toEqual([
      expect.stringContaining('unknown step type "PDF"'),
      expect.stringContaining('unknown mode "sleepy"'),
      expect.stringContaining('flaky takes the number of attempts'),
      expect.stringContaining('mode slow takes no ":" argument'),
    ]);
  });
});

describe('PLATFORM_SUBSCRIPTIONS', () => {
  it('names the subscriptions Lucius topology routes each step type to', () => {
    expect(PLATFORM_SUBSCRIPTIONS).toEqual(LUCIUS_SUBSCRIPTIONS);
  });
});
