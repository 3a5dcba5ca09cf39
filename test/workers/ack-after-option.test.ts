/** The lazy-ACK setting: `--ack-after`, else LUCIUS_DEMO_ACK_AFTER_MS, checked before connecting. */
import { workerCliOptions } from '../../workers/cli';
import { startDemoWorkers } from '../../workers/demo-workers';
import { WorkerConfigError } from '../../workers/errors';

const CONNECTION =
  'Endpoint=sb://127.0.0.1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;';

describe('workerCliOptions ackAfterMs', () => {
  it('is unset by default: ACK first', () => {
    expect(workerCliOptions({ connection: CONNECTION }, {})).not.toHaveProperty('ackAfterMs');
  });

  it('reads --ack-after over LUCIUS_DEMO_ACK_AFTER_MS', () => {
    expect(workerCliOptions({ connection: CONNECTION }, { LUCIUS_DEMO_ACK_AFTER_MS: '250' })).toMatchObject({
      ackAfterMs: 250,
    });
    expect(
      workerCliOptions({ connection: CONNECTION, 'ack-after': '500' }, { LUCIUS_DEMO_ACK_AFTER_MS: '250' }),
    ).toMatchObject({ ackAfterMs: 500 });
  });

  it('refuses a value that is not a positive number of milliseconds, naming both sources', () => {
    for (const bad of ['0', '-5', '1.5', 'soon']) {
      expect(() => workerCliOptions({ connection: CONNECTION, 'ack-after': bad }, {})).toThrow(
        /--ack-after \(or LUCIUS_DEMO_ACK_AFTER_MS\) must be a positive number of milliseconds/,
      );
    }
  });
});

describe('startDemoWorkers ackAfterMs', () => {
  it('refuses a non-positive or fractional ackAfterMs before connecting', async () => {
    for (const ackAfterMs of [0, -1, 2.5]) {
      await expect(startDemoWorkers({ connectionString: CONNECTION, ackAfterMs })).rejects.toThrow(
        WorkerConfigError,
      );
    }
  });
});
