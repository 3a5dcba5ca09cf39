/**
 * The app's hooks and every invocation's trace context, as the Azure Functions Node worker and host
 * provide them, for each kind of invocation devhost makes: HTTP, timer, Service Bus (through the
 * emulator), orchestrator and activity. The fixture app writes what its hooks and handlers see to a
 * report file, one JSON line each.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServiceBusClient } from '@azure/service-bus';
import { readHostConfig } from '../../../devhost/common/host-config';
import { createDurableSupport } from '../../../devhost/durable/durable-support';
import { MemoryDurableStore } from '../../../devhost/durable/engine';
import { appProcessEnv } from '../../../devhost/host/functions-core';
import { startHost, type DevHost } from '../../../devhost/host/host';
import { startServiceBusEmulator, type ServiceBusEmulator } from '../../../devhost/servicebus/emulator';
import { createServiceBusSupport } from '../../../devhost/servicebus/triggers/service-bus-support';

const APP_DIR = join(__dirname, '..', 'fixtures', 'hooks-app');
const env = appProcessEnv();
const saved = { report: env.HOOKS_REPORT, connection: env.HooksServiceBus };
const scratch = mkdtempSync(join(tmpdir(), 'devhost-hooks-'));
const reportFile = join(scratch, 'report.jsonl');

const TRACE_PARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

let emulator: ServiceBusEmulator;
let host: DevHost | undefined;

type Entry = Record<string, unknown> & {
  hook?: string;
  handler?: string;
  fn?: string;
  traceContext?: { traceParent: string; traceState: string; attributes: Record<string, string> };
};

function entries(): Entry[] {
  return readFileSync(reportFile, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Entry);
}

/** Polls the report until `done` holds (bounded by count, never asserted on time). */
async function until(done: (all: Entry[]) => boolean): Promise<Entry[]> {
  for (let poll = 0; poll < 400; poll += 1) {
    const all = entries();
    if (done(all)) return all;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`condition not reached: ${JSON.stringify(entries())}`);
}

function running(): DevHost {
  if (host === undefined) throw new Error('devhost did not start');
  return host;
}

function hooksOf(fn: string): Entry[] {
  return entries().filter((entry) => entry.fn === fn);
}

beforeAll(async () => {
  writeFileSync(reportFile, '');
  emulator = await startServiceBusEmulator({
    port: 0,
    config: {
      UserConfig: {
        Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'hooked' }], Topics: [] }],
        Logging: { Type: 'Console' },
      },
    },
  });
  env.HOOKS_REPORT = reportFile;
  env.HooksServiceBus = emulator.connectionString;
  host = await startHost({
    appDir: APP_DIR,
    port: 0,
    log: () => undefined,
    parts: [
      createServiceBusSupport(),
      createDurableSupport({
        config: readHostConfig(APP_DIR, env),
        store: new MemoryDurableStore(),
        hostUrl: () => running().baseUrl,
      }),
    ],
  });
});

afterAll(async () => {
  await host?.stop();
  await emulator?.stop();
  for (const [name, value] of [
    ['HOOKS_REPORT', saved.report],
    ['HooksServiceBus', saved.connection],
  ] as const) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  rmSync(scratch, { recursive: true, force: true });
});

async function get(name: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${running().apiUrl}/${name}`, { headers });
}

describe('app hooks', () => {
  it('runs appStart once, when the app is loaded', () => {
    expect(entries().filter((entry) => entry.hook === 'appStart')).toEqual([{ hook: 'appStart' }]);
  });

  it('runs preInvocation then postInvocation around a handler, sharing hookData', async () => {
    const response = await get('plain');
    expect(await response.text()).toBe('plain');
    expect(hooksOf('plain')).toEqual([
      { hook: 'preInvocation', fn: 'plain', trigger: 'httpTrigger', inputs: 1 },
      { hook: 'postInvocation', fn: 'plain', sameInvocation: true, error: null, result: { body: 'plain' } },
    ]);
  });

  it('calls the functionHandler a preInvocation hook put in place', async () => {
    const response = await get('replaced');
    expect(await response.json()).toEqual({ replaced: true, original: 'original' });
  });

  it('calls the handler with the inputs a preInvocation hook put in place', async () => {
    expect(await (await get('swapped')).text()).toBe('swapped input');
  });

  it('returns the result a postInvocation hook put in place', async () => {
    expect(await (await get('changed')).json()).toEqual({ changed: 'before' });
  });

  it('shows postInvocation hooks the handler error, and fails the invocation with it', async () => {
    expect((await get('failing')).status).toBe(500);
    expect(hooksOf('failing').at(-1)).toEqual({
      hook: 'postInvocation',
      fn: 'failing',
      sameInvocation: true,
      error: 'boom',
      result: null,
    });
  });

  it('succeeds when a postInvocation hook clears the error and sets a result', async () => {
    const response = await get('recovered');
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('recovered from oops');
  });

  it('fails the invocation, without running the handler or postInvocation, when a preInvocation hook throws', async () => {
    expect((await get('guarded')).status).toBe(500);
    expect(hooksOf('guarded')).toEqual([
      { hook: 'preInvocation', fn: 'guarded', trigger: 'httpTrigger', inputs: 1 },
    ]);
    expect(entries().some((entry) => entry.handler === 'guarded')).toBe(false);
  });

  it('runs the hooks around timer, orchestrator and activity invocations too', async () => {
    await running().runTimer('tick');
    const begun = (await (await fetch(`${running().apiUrl}/begin`, { method: 'POST' })).json()) as {
      instanceId: string;
    };
    expect(typeof begun.instanceId).toBe('string');
    const all = await until((list) =>
      list.some((entry) => entry.hook === 'postInvocation' && entry.fn === 'flow' && entry.result !== null),
    );
    const triggers = (fn: string): unknown[] =>
      all.filter((entry) => entry.fn === fn).map((entry) => entry.hook ?? entry.handler);
    expect(triggers('tick')).toEqual(['preInvocation', 'postInvocation']);
    expect(all.find((entry) => entry.fn === 'step' && entry.hook === 'preInvocation')).toMatchObject({
      trigger: 'activityTrigger',
      inputs: 1,
    });
    expect(all.find((entry) => entry.fn === 'step' && entry.hook === 'postInvocation')).toMatchObject({
      sameInvocation: true,
      error: null,
      result: 'stepped once',
    });
    expect(all.find((entry) => entry.fn === 'flow' && entry.hook === 'preInvocation')).toMatchObject({
      trigger: 'orchestrationTrigger',
      inputs: 1,
    });
  });
});

describe('context.traceContext', () => {
  async function traceOf(headers: Record<string, string> = {}) {
    return (await (await get('trace', headers)).json()) as {
      traceParent: string;
      traceState: string;
      attributes: Record<string, string>;
    };
  }

  it('starts a new sampled W3C trace for an HTTP request without traceparent', async () => {
    const first = await traceOf();
    const second = await traceOf();
    expect(first.traceParent).toMatch(TRACE_PARENT);
    expect(first.traceParent.endsWith('-01')).toBe(true);
    expect(first.traceState).toBe('');
    expect(first.attributes).toEqual({});
    expect(TRACE_PARENT.exec(second.traceParent)?.[1]).not.toBe(TRACE_PARENT.exec(first.traceParent)?.[1]);
  });

  it("continues an HTTP request's traceparent with a new span, keeping its flags and tracestate", async () => {
    const trace = await traceOf({
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00',
      tracestate: 'congo=t61rcWkgMzE',
    });
    const [, traceId, spanId, flags] = TRACE_PARENT.exec(trace.traceParent) ?? [];
    expect(traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(spanId).not.toBe('b7ad6b7169203331');
    expect(flags).toBe('00');
    expect(trace.traceState).toBe('congo=t61rcWkgMzE');
  });

  it('starts a new trace when the traceparent header is not valid W3C', async () => {
    const trace = await traceOf({
      traceparent: '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      tracestate: 'congo=t61rcWkgMzE',
    });
    expect(trace.traceParent).toMatch(TRACE_PARENT);
    expect(trace.traceParent).not.toContain('00000000000000000000000000000000');
    expect(trace.traceState).toBe('');
  });

  it('gives a timer invocation a new trace', async () => {
    await running().runTimer('tick');
    const ticks = entries().filter((entry) => entry.handler === 'tick');
    expect(ticks.at(-1)?.traceContext).toEqual({
      traceParent: expect.stringMatching(TRACE_PARENT),
      traceState: '',
      attributes: {},
    });
  });

  it("continues a Service Bus message's Diagnostic-Id", async () => {
    const client = new ServiceBusClient(emulator.connectionString);
    try {
      const sender = client.createSender('hooked');
      await sender.sendMessages({
        body: { n: 1 },
        applicationProperties: {
          'Diagnostic-Id': '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
          tracestate: 'rojo=00f067aa0ba902b7',
        },
      });
      await sender.close();
    } finally {
      await client.close();
    }
    const all = await until((list) => list.some((entry) => entry.handler === 'onMessage'));
    const received = all.find((entry) => entry.handler === 'onMessage');
    const [, traceId, spanId, flags] = TRACE_PARENT.exec(received?.traceContext?.traceParent ?? '') ?? [];
    expect(received?.message).toEqual({ n: 1 });
    expect(traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(spanId).not.toBe('00f067aa0ba902b7');
    expect(flags).toBe('01');
    expect(received?.traceContext?.traceState).toBe('rojo=00f067aa0ba902b7');
  });

  it('gives an activity invocation a new trace', async () => {
    const before = entries().filter((entry) => entry.handler === 'step').length;
    expect((await fetch(`${running().apiUrl}/begin`, { method: 'POST' })).status).toBe(200);
    const all = await until((list) => list.filter((entry) => entry.handler === 'step').length > before);
    expect(all.filter((entry) => entry.handler === 'step').at(-1)?.traceContext).toEqual({
      traceParent: expect.stringMatching(TRACE_PARENT),
      traceState: '',
      attributes: {},
    });
  });
});

describe('appTerminate', () => {
  it('runs when the host stops, with the hookData appStart left', async () => {
    await running().stop();
    expect(entries().filter((entry) => entry.hook === 'appTerminate')).toEqual([
      { hook: 'appTerminate', startedBy: 'appStart' },
    ]);
  });
});
