import { parseEmulatorConfig } from '../../../../devhost/servicebus/broker/config';
import { BrokerConfigError } from '../../../../devhost/servicebus/broker/errors';
import { testConfig } from './fixtures';

function problems(raw: unknown): string[] {
  try {
    parseEmulatorConfig(raw);
  } catch (error) {
    if (error instanceof BrokerConfigError)
      return error.issues.map((issue) => `${issue.path}: ${issue.message}`);
    throw error;
  }
  throw new Error('expected the configuration to be rejected');
}

describe('parseEmulatorConfig', () => {
  it('turns a Config.json document into entities with durations in milliseconds', () => {
    const topology = parseEmulatorConfig(testConfig());
    expect(topology.namespace).toBe('sbemulatorns');
    expect(topology.queues[0]).toEqual({
      name: 'orders',
      properties: {
        lockDurationMs: 60_000,
        maxDeliveryCount: 3,
        defaultTimeToLiveMs: 3_600_000,
        deadLetteringOnMessageExpiration: true,
        requiresSession: false,
        requiresDuplicateDetection: true,
        duplicateDetectionWindowMs: 600_000,
      },
    });
    const red = topology.topics[0]!.subscriptions[0]!;
    expect(red.rules).toEqual([
      {
        name: 'red-only',
        filter: expect.objectContaining({ kind: 'correlation', properties: { color: 'red' } }),
      },
    ]);
  });

  it('fills in Azure defaults for omitted properties', () => {
    const topology = parseEmulatorConfig({
      UserConfig: { Namespaces: [{ Name: 'ns', Queues: [{ Name: 'q' }] }] },
    });
    expect(topology.queues[0]!.properties).toEqual({
      lockDurationMs: 60_000,
      maxDeliveryCount: 10,
      defaultTimeToLiveMs: undefined,
      deadLetteringOnMessageExpiration: false,
      requiresSession: false,
      requiresDuplicateDetection: false,
      duplicateDetectionWindowMs: 600_000,
    });
  });

  it('gives a subscription without rules the default TrueFilter', () => {
    const topology = parseEmulatorConfig(testConfig());
    expect(topology.topics[0]!.subscriptions[2]!.rules).toEqual([
      { name: '$Default', filter: { kind: 'true' } },
    ]);
  });

  it('treats TimeSpan.MaxValue as no expiry', () => {
    const topology = parseEmulatorConfig({
      UserConfig: {
        Namespaces: [
          {
            Name: 'ns',
            Queues: [{ Name: 'q', Properties: { DefaultMessageTimeToLive: 'P10675199DT2H48M5.4775807S' } }],
          },
        ],
      },
    });
    expect(topology.queues[0]!.properties.defaultTimeToLiveMs).toBeUndefined();
  });

  it('reports every problem at once with its JSON path', () => {
    const found = problems({
      UserConfig: {
        Namespaces: [
          {
            Name: 'ns',
            Queues: [
              { Name: 'q', Properties: { LockDuration: 'one minute', MaxDeliveryCount: 0, Colour: 'red' } },
              { Name: '' },
            ],
            Topics: [
              {
                Name: 't',
                Subscriptions: [
                  {
                    Name: 's',
                    Properties: { ForwardTo: 'elsewhere' },
                    Rules: [{ Name: 'r', Properties: { FilterType: 'Sql', CorrelationFilter: {} } }],
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    const base = 'UserConfig.Namespaces[0]';
    expect(found).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^${escape(base)}\\.Queues\\[0\\]\\.Properties\\.LockDuration: .*ISO 8601`),
        ),
        expect.stringContaining(`${base}.Queues[0].Properties.MaxDeliveryCount:`),
        expect.stringMatching(/Queues\[0\]\.Properties: .*Colour/),
        expect.stringContaining(`${base}.Queues[1].Name:`),
        expect.stringContaining(
          `${base}.Topics[0].Subscriptions[0].Properties.ForwardTo: forwarding is not supported`,
        ),
        expect.stringContaining(`${base}.Topics[0].Subscriptions[0].Rules[0].Properties.FilterType:`),
        expect.stringContaining(`${base}.Topics[0].Subscriptions[0].Rules[0].Properties.CorrelationFilter:`),
      ]),
    );
    expect(found).toHaveLength(7);
  });

  it('puts every problem in one error message', () => {
    expect(() =>
      parseEmulatorConfig({
        UserConfig: {
          Namespaces: [{ Name: 'ns', Queues: [{ Name: 'q', Properties: { LockDuration: 'PT10M' } }] }],
        },
      }),
    ).toThrow(
      /1 problem\):\n {2}- UserConfig\.Namespaces\[0\]\.Queues\[0\]\.Properties\.LockDuration: must be between PT5S and PT5M/,
    );
  });

  it('rejects names used twice, ignoring case', () => {
    const found = problems({
      UserConfig: {
        Namespaces: [
          {
            Name: 'ns',
            Queues: [{ Name: 'Jobs' }],
            Topics: [{ Name: 'jobs', Subscriptions: [{ Name: 'a' }, { Name: 'A' }] }],
          },
        ],
      },
    });
    expect(found).toEqual([
      "UserConfig.Namespaces[0].Queues+Topics[1].Name: duplicate queue or topic name 'jobs'",
      "UserConfig.Namespaces[0].Topics[0].Subscriptions[1].Name: duplicate subscription name 'A'",
    ]);
  });

  it('rejects a document without exactly one namespace', () => {
    expect(problems({ UserConfig: { Namespaces: [] } })).toEqual([
      'UserConfig.Namespaces: devhost emulates exactly one namespace',
    ]);
    expect(problems({})).toEqual([expect.stringMatching(/^UserConfig: /)]);
  });
});

function escape(text: string): string {
  return text.replace(/[.[\]]/g, '\\$&');
}
