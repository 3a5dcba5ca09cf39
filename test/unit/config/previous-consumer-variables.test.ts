/**
 * The previous system's platform consumers were configured with SERVICEBUS_CONNECTION,
 * SERVICEBUS_TOPIC, SERVICEBUS_SUBSCRIPTION and SERVICEBUS_REPLY_PREFIX: the workers' CLI reads them.
 */
import { workerCliOptions } from '../../../workers/cli';
import { WorkerConfigError } from '../../../workers/errors';

const CONNECTION =
  'Endpoint=sb://127.0.0.1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;';

function problems(env: Record<string, string>, values = {}): readonly string[] {
  try {
    workerCliOptions(values, env);
  } catch (error) {
    if (error instanceof WorkerConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a WorkerConfigError');
}

describe('workerCliOptions', () => {
  it("runs one platform's worker on the previous consumer variables", () => {
    const options = workerCliOptions(
      {},
      {
        SERVICEBUS_CONNECTION: CONNECTION,
        SERVICEBUS_TOPIC: 'orders-bus-p',
        SERVICEBUS_SUBSCRIPTION: 'vector-ingestion',
        SERVICEBUS_REPLY_PREFIX: 'orders-replies-p',
        LUCIUS_DEMO_WORKERS: 'slow',
      },
    );
    expect(options).toMatchObject({
      connectionString: CONNECTION,
      topicPrefix: 'orders-bus-p',
      replyPrefix: 'orders-replies-p',
      modes: { OCR: { mode: 'off' }, EMBEDDING: { mode: 'slow' }, SIS: { mode: 'off' } },
    });
    expect(options).not.toHaveProperty('lanes');
    expect(options.notes).toEqual([
      "replies go to orders-replies-p{lane}, not each directive's reply_to: Lucius reads them only if that is its LUCIUS_SERVICEBUS_REPLY_PREFIX or they are forwarded to its reply topics",
      'SERVICEBUS_SUBSCRIPTION=vector-ingestion: the EMBEDDING worker only',
    ]);
  });

  it('listens on the one lane a single lane topic names', () => {
    const options = workerCliOptions(
      {},
      { SERVICEBUS_CONNECTION: CONNECTION, SERVICEBUS_TOPIC: 'global-bus-p3', LUCIUS_LANE_COUNT: '16' },
    );
    expect(options).toMatchObject({ topicPrefix: 'global-bus-p', lanes: [3] });
    expect(options.notes).toEqual(['SERVICEBUS_TOPIC=global-bus-p3: lane 3 only']);
    expect(
      workerCliOptions(
        {},
        {
          SERVICEBUS_CONNECTION: CONNECTION,
          SERVICEBUS_TOPIC: 'global-bus-p12',
          LUCIUS_SERVICEBUS_TOPIC_PREFIX: 'global-bus-p',
        },
      ),
    ).toMatchObject({ topicPrefix: 'global-bus-p', lanes: [12] });
  });

  it('takes lanes and the reply prefix from the command line over the environment', () => {
    expect(
      workerCliOptions(
        { lane: '0, 5', 'reply-prefix': 'flag-replies-p' },
        {
          ServiceBusConnection: CONNECTION,
          SERVICEBUS_TOPIC: 'global-bus-p3',
          SERVICEBUS_REPLY_PREFIX: 'env-replies-p',
        },
      ),
    ).toMatchObject({ topicPrefix: 'global-bus-p', lanes: [0, 5], replyPrefix: 'flag-replies-p' });
    expect(workerCliOptions({ lanes: '4' }, { ServiceBusConnection: CONNECTION })).toMatchObject({
      lanes: 4,
    });
    expect(
      workerCliOptions(
        { 'topic-prefix': 'flag-p' },
        { ServiceBusConnection: CONNECTION, SERVICEBUS_TOPIC: 'x3' },
      ),
    ).toMatchObject({ topicPrefix: 'flag-p' });
  });

  it('prefers the command line, then the current names', () => {
    const options = workerCliOptions(
      { connection: 'Endpoint=sb://flag;', 'topic-prefix': 'flag-p' },
      {
        ServiceBusConnection: CONNECTION,
        SERVICEBUS_CONNECTION: 'Endpoint=sb://other;',
        SERVICEBUS_TOPIC: 'x',
      },
    );
    expect(options).toMatchObject({ connectionString: 'Endpoint=sb://flag;', topicPrefix: 'flag-p' });
    expect(
      workerCliOptions({}, { ServiceBusConnection: CONNECTION, LUCIUS_SERVICEBUS_TOPIC_PREFIX: 'new-p' }),
    ).toMatchObject({ connectionString: CONNECTION, topicPrefix: 'new-p' });
  });

  it('names both variables when an old and a new one disagree', () => {
    expect(
      problems({
        ServiceBusConnection: CONNECTION,
        SERVICEBUS_CONNECTION: 'Endpoint=sb://other;',
        LUCIUS_SERVICEBUS_REPLY_PREFIX: 'a-p',
        SERVICEBUS_REPLY_PREFIX: 'b-p',
      }),
    ).toEqual([
      'ServiceBusConnection and SERVICEBUS_CONNECTION (its previous name) disagree: set one of them, or --connection',
      'LUCIUS_SERVICEBUS_REPLY_PREFIX and SERVICEBUS_REPLY_PREFIX (its previous name) disagree: set one of them, or --reply-prefix',
    ]);
  });

  it('explains a subscription that is not a platform, a lane beyond the lane count, and a missing connection', () => {
    expect(
      problems({
        SERVICEBUS_SUBSCRIPTION: 'ocr',
        SERVICEBUS_TOPIC: 'global-bus-p20',
        LUCIUS_LANE_COUNT: '16',
      }),
    ).toEqual([
      '--connection (or ServiceBusConnection, or SERVICEBUS_CONNECTION) is required',
      'SERVICEBUS_TOPIC names lane 20, beyond LUCIUS_LANE_COUNT=16 (lanes 0..15)',
      'SERVICEBUS_SUBSCRIPTION must be one of distributed-ocr, vector-ingestion, semantic-intelligence (got "ocr")',
    ]);
    expect(problems({ ServiceBusConnection: CONNECTION }, { lane: '1,2', lanes: '2' })).toEqual([
      '--lane names lane 2, beyond --lanes=2 (lanes 0..1)',
    ]);
    expect(problems({ ServiceBusConnection: CONNECTION }, { lane: 'three' })).toEqual([
      '--lane must be lane numbers separated by commas, e.g. 3 or 0,1 (got "three")',
    ]);
  });

  it('names both topic variables when SERVICEBUS_TOPIC is neither the prefix nor one of its lane topics', () => {
    expect(
      problems({
        ServiceBusConnection: CONNECTION,
        LUCIUS_SERVICEBUS_TOPIC_PREFIX: 'global-bus-p',
        SERVICEBUS_TOPIC: 'orders-bus-p3',
      }),
    ).toEqual([
      'LUCIUS_SERVICEBUS_TOPIC_PREFIX and SERVICEBUS_TOPIC (its previous name) disagree: SERVICEBUS_TOPIC must be that prefix or one of its lane topics; set one of them, or --topic-prefix',
    ]);
  });
});
