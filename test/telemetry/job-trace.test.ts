/**
 * A job's telemetry end to end on devhost: the launcher's `up` as a child process (Azurite, the
 * Service Bus emulator, the app from src/index.ts, the demo workers), with
 * LUCIUS_TELEMETRY_TEST_FILE set so the app's OpenTelemetry SDK appends its spans and metrics to a
 * file this test reads (the app runs in another process, where an exporter registered here could
 * not see them). One job, admitted with a caller's `traceparent`, must be one trace: the admission
 * request → the activities (orchestration input) → the directive's producer span (message
 * properties) → the worker's replies (copied properties) → their ingestion. The calls carry a dev
 * bearer token for the job's tenant (`up` runs the app in `LUCIUS_AUTH_MODE=dev`). Waits poll;
 * nothing asserts on elapsed time.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { eventually, startUp, type Up } from '../support/devhost-up';
import { devToken, bearer } from '../support/dev-token';
import { uniqueToken } from '../support/unique';

const KEY = 'telemetry-key';

interface SpanLine {
  readonly type: 'span';
  readonly name: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId?: string;
  readonly kind: string;
  readonly attributes: Record<string, unknown>;
  readonly events: string[];
}
interface MetricLine {
  readonly type: 'metric';
  readonly name: string;
  readonly points: ReadonlyArray<{ attributes: Record<string, unknown>; value: number | { count: number } }>;
}

let up: Up;
let dir: string;
let file: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lucius-telemetry-'));
  file = join(dir, 'telemetry.jsonl');
  up = await startUp(['--workers', 'normal'], {
    DEVHOST_FUNCTION_KEY: KEY,
    LUCIUS_TELEMETRY_TEST_FILE: file,
  });
}, 120_000);

afterAll(async () => {
  await up?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function lines(): Array<SpanLine | MetricLine> {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as SpanLine | MetricLine);
}

const spansOf = (traceId: string) =>
  lines().filter((l): l is SpanLine => l.type === 'span' && l.traceId === traceId);

/**
 * The latest cumulative value of a metric over the points whose attributes include `where` (a
 * histogram's: its count); undefined while no such point was exported.
 */
function metricTotal(name: string, where: Record<string, unknown>): number | undefined {
  const exports = lines().filter((l): l is MetricLine => l.type === 'metric' && l.name === name);
  const last = exports[exports.length - 1];
  if (last === undefined) return undefined;
  const points = last.points.filter((p) => Object.entries(where).every(([k, v]) => p.attributes[k] === v));
  if (points.length === 0) return undefined;
  return points.reduce((sum, p) => sum + (typeof p.value === 'number' ? p.value : p.value.count), 0);
}

describe('telemetry of a job on devhost', () => {
  it('keeps one job in one trace from admission to the last reply, and emits its metrics and lifecycle lines', async () => {
    const tenant = `t-${uniqueToken()}`;
    const callerTrace = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const auth = bearer(await devToken(up.dataDir, tenant));
    const admission = await fetch(`${up.apiUrl}/v1/commands?code=${KEY}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: `00-${callerTrace}-${callerSpan}-01`,
        ...auth,
      },
      body: JSON.stringify({
        tenant_id: tenant,
        request_type: 'OCR->EMBEDDING',
        input_ref: `blob://in/${uniqueToken()}.pdf`,
        output_ref: 'blob://out/telemetry',
        payload: {
          steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } },
        },
        schema_version: 'v1',
      }),
    });
    expect(admission.status).toBe(202);
    const { jobId } = (await admission.json()) as { jobId: string };

    await eventually(`job ${jobId} succeeding`, async () => {
      const view = await fetch(`${up.apiUrl}/v1/jobs/${jobId}?tenant_id=${tenant}&code=${KEY}`, {
        headers: auth,
      });
      const body = (await view.json()) as { status: string };
      if (body.status === 'FAILED' || body.status === 'CANCELLED') throw new Error(`job ${body.status}`);
      return body.status === 'SUCCEEDED' ? body : undefined;
    });

    // Every span of the job, in the caller's trace (the last ones land once the second RESULT's
    // settleAttempt, which finishes the job, has run).
    const spans = await eventually('the job.succeeded event on a settleAttempt span', async () => {
      const found = spansOf(callerTrace);
      return found.some((s) => s.name === 'activity settleAttempt' && s.events.includes('job.succeeded'))
        ? found
        : undefined;
    });
    const admit = spans.find((s) => s.name === 'POST /v1/commands');
    expect(admit).toMatchObject({ kind: 'SERVER', parentSpanId: callerSpan });
    expect(admit?.events).toContain('job.accepted');

    const activities = spans.filter((s) => s.name.startsWith('activity '));
    expect(new Set(activities.map((s) => s.name))).toEqual(
      // startJob dispatches the first step (slot, record, publish); each RESULT's settleAttempt reads
      // the step and dispatches the next one, or finishes the job; the RESULT's ingestion gives the
      // slot back.
      new Set(['activity startJob', 'activity settleAttempt']),
    );
    expect(activities.filter((s) => s.name === 'activity settleAttempt')).toHaveLength(2);
    for (const activity of activities) {
      expect(activity.parentSpanId).toBe(admit?.spanId);
      expect(activity.attributes.job_id).toBe(jobId);
    }

    const producers = spans.filter((s) => s.kind === 'PRODUCER');
    expect(producers).toHaveLength(2);
    const publishing = new Set(activities.map((s) => s.spanId));
    for (const producer of producers) expect(publishing.has(producer.parentSpanId ?? '')).toBe(true);
    expect(new Set(producers.map((s) => s.attributes.step_id))).toEqual(new Set(['ocr', 'embedding']));

    // The replies' ingestion continues the directive's context, which the worker copied.
    const consumers = spans.filter((s) => s.kind === 'CONSUMER');
    const producerIds = new Set(producers.map((s) => s.spanId));
    expect(consumers.length).toBeGreaterThanOrEqual(4); // an ACK and a RESULT per step
    for (const consumer of consumers) expect(producerIds.has(consumer.parentSpanId ?? '')).toBe(true);
    const consumerEvents = consumers.flatMap((s) => s.events);
    expect(consumerEvents).toEqual(expect.arrayContaining(['step.acked', 'step.succeeded']));
    const settles = activities.filter((s) => s.name === 'activity settleAttempt');
    expect(settles.flatMap((s) => s.events)).toContain('job.succeeded');

    // Metrics (exported every second, cumulative).
    const metric = (name: string, where: Record<string, unknown>, atLeast: number) =>
      eventually(`${name} reaching ${atLeast}`, async () => {
        const total = metricTotal(name, where);
        return total !== undefined && total >= atLeast ? total : undefined;
      });
    await metric('lucius.jobs.admitted', { request_type: 'OCR->EMBEDDING' }, 1);
    await metric('lucius.jobs.finished', { status: 'succeeded', request_type: 'OCR->EMBEDDING' }, 1);
    await metric('lucius.step.attempts', { step_type: 'OCR' }, 1);
    await metric('lucius.step.attempts', { step_type: 'EMBEDDING' }, 1);
    await metric('lucius.step.ack_latency', {}, 2);
    await metric('lucius.step.duration', { status: 'succeeded' }, 2);
    await eventually(`the in-flight level of ${tenant} back at 0`, async () =>
      metricTotal('lucius.tenant.inflight', { tenant_id: tenant }) === 0 ? true : undefined,
    );

    // npm start's readable lines: one per lifecycle event.
    const output = up.output();
    expect(output).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d job\\.accepted job=${jobId} tenant=${tenant} type=OCR->EMBEDDING`,
        'm',
      ),
    );
    expect(output).toMatch(
      new RegExp(
        `^\\d\\d:\\d\\d:\\d\\d step\\.dispatched job=${jobId} tenant=${tenant} step=ocr attempt=1`,
        'm',
      ),
    );
    expect(output).toMatch(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d step\\.acked job=${jobId} tenant=${tenant} step=ocr attempt=1`, 'm'),
    );
    expect(output).toMatch(
      new RegExp(`^\\d\\d:\\d\\d:\\d\\d job\\.succeeded job=${jobId} tenant=${tenant}`, 'm'),
    );
  }, 180_000);
});
