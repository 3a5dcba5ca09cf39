/**
 * `lucius quarantine` and `lucius jobs get` against Lucius running under devhost (`up --no-workers`:
 * its own Azurite, Service Bus emulator and Durable HTTP API). The test plays the OCR worker: it
 * takes the directive of a real job, and its ACK is parked on the quarantine queue exactly as the
 * app parks a reply it could not process (ServiceBusReplyQuarantine, with the reply topic as source).
 * `lucius quarantine redrive` sends it back to that reply topic; the app then applies it.
 *
 * The app runs in `LUCIUS_AUTH_MODE=dev` (as `npm start` does): the test's calls to its API carry a
 * dev bearer token for the job's tenant. Waits poll with a bounded number of short sleeps; nothing
 * asserts on elapsed time.
 */
import { ServiceBusClient } from '@azure/service-bus';
import { devTableConnectionString } from '../../devhost/azurite';
import type { Directive } from '../../src/contracts/directive';
import { ServiceBusReplyQuarantine } from '../../src/messaging/service-bus-reply-quarantine';
import { PLATFORM_SUBSCRIPTIONS } from '../../src/messaging/topology';
import { ackFor } from '../../workers/replies';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { bearer, devToken } from '../support/dev-token';
import { uniqueTenantId } from '../support/unique';
import { runLucius } from './run-lucius';

jest.setTimeout(180_000);

const KEY = 'cli-key';
let up: Up | undefined;

beforeAll(async () => {
  // The ACK is parked, then redriven by a few CLI runs: its attempt must still be waiting then.
  up = await startUp(['--no-workers'], { DEVHOST_FUNCTION_KEY: KEY, LUCIUS_ACK_TIMEOUT_SECONDS: '3600' });
}, 180_000);

afterAll(async () => {
  await up?.stop();
});

function running(): Up {
  if (up === undefined) throw new Error('up did not start');
  return up;
}

/** The settings an operator points lucius at this Lucius with. */
function luciusEnv(): Record<string, string> {
  const { ports, serviceBusConnection, baseUrl } = running();
  return {
    LUCIUS_STORAGE_BACKEND: 'ledger',
    LUCIUS_TABLE_CONNECTION: devTableConnectionString(`http://127.0.0.1:${ports.azurite}/devstoreaccount1`),
    ServiceBusConnection: serviceBusConnection,
    LUCIUS_TASK_HUB: 'LuciusLocal',
    LUCIUS_DURABLE_API_URL: `${baseUrl}/runtime/webhooks/durabletask`,
    // The function key given is also the master key, which the Durable HTTP API accepts.
    LUCIUS_DURABLE_API_KEY: KEY,
  };
}

interface JobView {
  readonly job: { readonly status: string; readonly lane: number };
  readonly steps: ReadonlyArray<{
    readonly stepId: string;
    readonly status: string;
    readonly attemptNo: number;
  }>;
}

describe('lucius quarantine (on devhost)', () => {
  it('redrives a parked reply to the reply topic it came from, where it applies', async () => {
    const { apiUrl, serviceBusConnection } = running();
    const tenantId = uniqueTenantId();
    const auth = bearer(await devToken(running().dataDir, tenantId));
    const response = await fetch(`${apiUrl}/v1/orchestrate?code=${KEY}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({
        tenant_id: tenantId,
        request_type: 'OCR->EMBEDDING',
        input_ref: 'blob://in/doc.pdf',
        output_ref: 'blob://out/doc',
        payload: {
          steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } },
        },
        schema_version: 'v1',
      }),
    });
    expect(response.status).toBe(202);
    const { jobId } = (await response.json()) as { jobId: string };

    const view = async (): Promise<JobView> => {
      const result = await runLucius(['jobs', 'get', jobId, '--tenant', tenantId, '--json'], luciusEnv());
      if (result.code !== 0) throw new Error(`jobs get exited ${result.code}: ${result.stderr}`);
      return JSON.parse(result.stdout) as JobView;
    };
    const { lane } = (await view()).job;

    const client = new ServiceBusClient(serviceBusConnection);
    try {
      const receiver = client.createReceiver(`global-bus-p${lane}`, PLATFORM_SUBSCRIPTIONS.OCR, {
        receiveMode: 'receiveAndDelete',
      });
      const directive = await eventually('the OCR directive', async () => {
        const [message] = await receiver.receiveMessages(1, { maxWaitTimeInMs: 1_000 });
        const body = message?.body as Directive | undefined;
        return body?.job_id === jobId && body.kind !== 'cancel' ? body : undefined;
      });
      await receiver.close();

      const quarantine = new ServiceBusReplyQuarantine(() => client, 'lucius-quarantine');
      await quarantine.quarantine({
        body: ackFor(directive, 'cli-test-worker', new Date()),
        reason: 'job_not_found',
        description: `job ${jobId} was not found`,
        source: `${directive.reply_to}/lucius-invoker`,
        sourceMessageId: `${jobId}:ocr:1:ack`,
        correlationId: jobId,
      });

      const listed = await runLucius(['quarantine', 'list', '--json'], luciusEnv());
      expect(listed.code).toBe(0);
      const { items } = JSON.parse(listed.stdout) as {
        items: Array<{ sequenceNumber: string; reason: string; source: string; correlationId: string }>;
      };
      const parked = items.find((item) => item.correlationId === jobId);
      expect(parked).toMatchObject({
        reason: 'job_not_found',
        source: `${directive.reply_to}/lucius-invoker`,
      });
      const seq = (parked as { sequenceNumber: string }).sequenceNumber;

      const shown = await runLucius(['quarantine', 'show', seq, '--json'], luciusEnv());
      expect(JSON.parse(shown.stdout)).toMatchObject({
        body: { kind: 'ack', job_id: jobId, lease_id: directive.lease_id },
      });
      expect((await view()).steps.find((s) => s.stepId === 'ocr')?.status).not.toBe('IN_PROGRESS');

      const redriven = await runLucius(['quarantine', 'redrive', seq, '--json'], luciusEnv());
      expect({ code: redriven.code, stderr: redriven.stderr }).toEqual({ code: 0, stderr: '' });
      expect(JSON.parse(redriven.stdout)).toEqual({ sequenceNumber: seq, redrivenTo: directive.reply_to });

      await eventually('the redriven ACK applying', async () => {
        const job = (await (
          await fetch(`${apiUrl}/v1/jobs/${jobId}?tenant_id=${tenantId}&code=${KEY}`, { headers: auth })
        ).json()) as { steps: Array<{ stepId: string; status: string }> };
        return job.steps.find((s) => s.stepId === 'ocr')?.status === 'IN_PROGRESS' ? true : undefined;
      });
      expect((await view()).steps.find((s) => s.stepId === 'ocr')).toMatchObject({
        status: 'IN_PROGRESS',
        attemptNo: directive.attempt_no,
      });

      const after = await runLucius(['quarantine', 'list', '--json'], luciusEnv());
      expect(
        (JSON.parse(after.stdout) as { items: Array<{ correlationId?: string }> }).items,
      ).not.toContainEqual(expect.objectContaining({ correlationId: jobId }));
      expect((await runLucius(['quarantine', 'show', seq], luciusEnv())).code).toBe(3);
    } finally {
      await client.close();
    }
  });

  it('purges one parked reply by sequence number, then all of them', async () => {
    const client = new ServiceBusClient(running().serviceBusConnection);
    try {
      const quarantine = new ServiceBusReplyQuarantine(() => client, 'lucius-quarantine');
      for (const n of [1, 2, 3])
        await quarantine.quarantine({
          body: `not json ${n}`,
          reason: 'invalid_reply',
          description: 'the reply is not JSON',
          source: 'global-bus-replies-p0/lucius-invoker',
        });
      const listed = JSON.parse((await runLucius(['quarantine', 'list', '--json'], luciusEnv())).stdout) as {
        items: Array<{ sequenceNumber: string; reason: string }>;
      };
      expect(listed.items).toHaveLength(3);
      const [first] = listed.items;

      expect((await runLucius(['quarantine', 'purge'], luciusEnv())).code).toBe(2);
      const one = await runLucius(
        ['quarantine', 'purge', first?.sequenceNumber ?? '', '--json'],
        luciusEnv(),
      );
      expect({ code: one.code, out: JSON.parse(one.stdout) as unknown }).toEqual({
        code: 0,
        out: { purged: 1 },
      });
      const remaining = JSON.parse(
        (await runLucius(['quarantine', 'list', '--json'], luciusEnv())).stdout,
      ) as {
        items: Array<{ sequenceNumber: string }>;
      };
      expect(remaining.items.map((i) => i.sequenceNumber)).toEqual(
        listed.items.slice(1).map((i) => i.sequenceNumber),
      );

      const all = await runLucius(['quarantine', 'purge', '--all', '--json'], luciusEnv());
      expect(JSON.parse(all.stdout)).toEqual({ purged: 2 });
      const empty = await runLucius(['quarantine', 'list'], luciusEnv());
      expect(empty.stdout).toContain('the quarantine queue is empty');
    } finally {
      await client.close();
    }
  });
});
