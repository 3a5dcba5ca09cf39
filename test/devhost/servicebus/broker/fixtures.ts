/** Shared fixtures for the broker core tests: a small Config.json, messages and temp folders. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { IncomingMessage } from '../../../../devhost/servicebus/broker/broker-api';
import type { EmulatorConfig } from '../../../../devhost/servicebus/broker/config';

export const MINUTE = 60_000;

export function testConfig(): EmulatorConfig {
  return {
    UserConfig: {
      Namespaces: [
        {
          Name: 'sbemulatorns',
          Queues: [
            {
              Name: 'orders',
              Properties: {
                DeadLetteringOnMessageExpiration: true,
                DefaultMessageTimeToLive: 'PT1H',
                DuplicateDetectionHistoryTimeWindow: 'PT10M',
                LockDuration: 'PT1M',
                MaxDeliveryCount: 3,
                RequiresDuplicateDetection: true,
                RequiresSession: false,
              },
            },
            { Name: 'plain', Properties: { LockDuration: 'PT30S', DefaultMessageTimeToLive: 'PT5M' } },
          ],
          Topics: [
            {
              Name: 'events',
              Properties: { DefaultMessageTimeToLive: 'PT1H', RequiresDuplicateDetection: false },
              Subscriptions: [
                {
                  Name: 'red',
                  Properties: { MaxDeliveryCount: 2, LockDuration: 'PT1M' },
                  Rules: [
                    {
                      Name: 'red-only',
                      Properties: {
                        FilterType: 'Correlation',
                        CorrelationFilter: { Properties: { color: 'red' } },
                      },
                    },
                  ],
                },
                {
                  Name: 'invoices',
                  Rules: [
                    {
                      Name: 'by-subject',
                      Properties: { FilterType: 'Correlation', CorrelationFilter: { Label: 'invoice' } },
                    },
                  ],
                },
                { Name: 'everything' },
              ],
            },
          ],
        },
      ],
      Logging: { Type: 'File' },
    },
  };
}

export function message(overrides: Partial<IncomingMessage> = {}): IncomingMessage {
  return { applicationProperties: {}, payload: { body: 'hello' }, ...overrides };
}

const folders: string[] = [];

/** A unique empty folder, removed by `removeTemporaryFolders`. */
export function temporaryFolder(name: string): string {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), `lucius-broker-${name}-`));
  folders.push(folder);
  return folder;
}

export function removeTemporaryFolders(): void {
  for (const folder of folders.splice(0)) fs.rmSync(folder, { recursive: true, force: true });
}
