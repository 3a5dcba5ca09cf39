/**
 * An activity receives the extra inputs it declares, as on Azure, on a small app that is not Lucius
 * (test/devhost/fixtures/activity-client-app), through the real durable-functions SDK: an activity with
 * `extraInputs: [df.input.durableClient()]` reads a second instance's status and raises the event
 * that instance waits for; an activity that declares no client gets none (the SDK's own error); the
 * activity's logs go to devhost's log under its name, as other triggers' do.
 */
import { join } from 'node:path';
import { createDurableSupport, type DurableSupport } from '../../../devhost/durable/durable-support';
import type { InstanceStatus } from '../../../devhost/durable/durable-api';
import { MemoryDurableStore } from '../../../devhost/durable/engine';
import { readHostConfig } from '../../../devhost/common/host-config';
import { startHost, type DevHost } from '../../../devhost/host/host';

const APP_DIR = join(__dirname, '..', 'fixtures', 'activity-client-app');
const env = { ...process.env };
const lines: string[] = [];

let host: DevHost | undefined;
let durable: DurableSupport | undefined;

beforeAll(async () => {
  durable = createDurableSupport({
    config: readHostConfig(APP_DIR, env),
    store: new MemoryDurableStore(),
    hostUrl: () => running().baseUrl,
  });
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: (line) => lines.push(line),
    env,
    parts: [durable],
  });
});

afterAll(async () => {
  await host?.stop();
});

function running(): DevHost {
  if (host === undefined) throw new Error('devhost did not start');
  return host;
}

function engine(): DurableSupport['engine'] {
  if (durable === undefined) throw new Error('durable support was not created');
  return durable.engine;
}

/** Polls (bounded) until the instance is in one of `statuses`. */
async function reaches(instanceId: string, statuses: readonly string[]): Promise<InstanceStatus> {
  let status: InstanceStatus | undefined;
  for (let poll = 0; poll < 500; poll += 1) {
    status = await engine().status(instanceId);
    if (status !== undefined && statuses.includes(status.runtimeStatus)) return status;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`${instanceId} did not reach ${statuses.join('/')}: ${JSON.stringify(status)}`);
}

describe('extra inputs of an activity', () => {
  it("fills a declared durable client: the activity reads another instance's status and raises its event", async () => {
    await engine().start('waitsForGo', { instanceId: 'waiter-1' });
    await reaches('waiter-1', ['Running']);

    await engine().start('signals', {
      instanceId: 'signaller-1',
      input: { instanceId: 'waiter-1', data: { slot: 3 } },
    });

    expect(await reaches('signaller-1', ['Completed', 'Failed'])).toMatchObject({
      runtimeStatus: 'Completed',
      output: { sawStatus: 'Running' },
    });
    expect(await reaches('waiter-1', ['Completed', 'Failed'])).toMatchObject({
      runtimeStatus: 'Completed',
      output: { go: { slot: 3 } },
    });
    expect(lines).toContain('[signal] raising go on waiter-1');
  });

  it('gives an activity that declares no durable client none, as on Azure', async () => {
    await engine().start('signalsWithoutClient', { instanceId: 'clientless-1' });

    const status = await reaches('clientless-1', ['Completed', 'Failed']);
    expect(status.runtimeStatus).toBe('Completed');
    expect(status.output).toEqual(
      expect.stringContaining('Could not find a registered durable client input binding'),
    );
  });
});
