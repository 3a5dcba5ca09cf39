/**
 * GET /health: the process is up (liveness). GET /healthz: readiness, the answers of the ledger,
 * Service Bus and the durable task hub (usecases/check-readiness.ts), each with its latency:
 *
 *   200 { status: "ok", timeout_ms, ledger: { backend, status: "ok", latency_ms },
 *         service_bus: { queue, status, latency_ms }, durable_task_hub: { task_hub, status, latency_ms } }
 *   503 application/problem+json with the same members, `failing` (the dependencies that did not
 *       answer) and `code` naming the first of them: ledger_unavailable, service_bus_unavailable or
 *       orchestration_unavailable (the durable task hub); with Retry-After.
 *
 * A failed dependency shows `status: "unavailable"` and `error`: `timeout` or the error's code; its
 * message goes to the log only (the probe is anonymous).
 */
import type { HttpRequest, HttpResponseInit, InvocationContext } from '@azure/functions';
import type { Services } from '../services';
import { checkReadiness, type DependencyName, type DependencyReport } from '../usecases/check-readiness';
import { PROBLEM_CONTENT_TYPE, problemType } from './problem';
import { jsonResponse } from './respond';

const NO_STORE = { 'Cache-Control': 'no-store' };

/** The problem code of each dependency when it is the (first) one failing. */
const CODES: Readonly<Record<DependencyName, string>> = {
  ledger: 'ledger_unavailable',
  service_bus: 'service_bus_unavailable',
  durable_task_hub: 'orchestration_unavailable',
};

export function handleHealth(): HttpResponseInit {
  return jsonResponse(200, { status: 'ok' }, NO_STORE);
}

export async function handleReadiness(
  services: Pick<Services, 'readiness' | 'http'>,
  request: HttpRequest,
  context: InvocationContext,
): Promise<HttpResponseInit> {
  const { readiness } = services;
  const report = await checkReadiness({ ...readiness, durable: readiness.durableFor(context) });
  const described: Record<string, Record<string, unknown>> = {};
  for (const dependency of report.dependencies) {
    described[dependency.name] = { ...identityOf(dependency.name, services), ...toView(dependency) };
  }
  if (report.ready)
    return jsonResponse(200, { status: 'ok', timeout_ms: report.timeoutMs, ...described }, NO_STORE);

  const failing = report.dependencies.filter((dependency) => !dependency.ok);
  for (const dependency of failing) {
    context.warn(
      JSON.stringify({
        event: 'health.dependency_unavailable',
        dependency: dependency.name,
        code: dependency.failure?.code,
        latency_ms: dependency.latencyMs,
        message: dependency.failure?.message,
      }),
    );
  }
  const code = CODES[(failing[0] as DependencyReport).name];
  return {
    status: 503,
    headers: {
      'Content-Type': PROBLEM_CONTENT_TYPE,
      'Retry-After': String(services.http.backpressureRetryAfterSeconds),
      ...NO_STORE,
    },
    body: JSON.stringify({
      type: problemType(code),
      title: 'Service Unavailable',
      status: 503,
      code,
      detail: `not ready: ${failing.map((dependency) => describeFailure(dependency, report.timeoutMs)).join('; ')}`,
      instance: new URL(request.url).pathname,
      failing: failing.map((dependency) => dependency.name),
      timeout_ms: report.timeoutMs,
      ...described,
    }),
  };
}

function identityOf(name: DependencyName, services: Pick<Services, 'readiness'>): Record<string, string> {
  switch (name) {
    case 'ledger':
      return { backend: services.readiness.backend };
    case 'service_bus':
      return { queue: services.readiness.serviceBus?.target ?? '' };
    case 'durable_task_hub':
      return { task_hub: services.readiness.taskHub };
  }
}

function toView(dependency: DependencyReport): Record<string, unknown> {
  return dependency.ok
    ? { status: 'ok', latency_ms: dependency.latencyMs }
    : { status: 'unavailable', latency_ms: dependency.latencyMs, error: dependency.failure?.code ?? 'error' };
}

function describeFailure(dependency: DependencyReport, timeoutMs: number): string {
  return dependency.failure?.code === 'timeout'
    ? `${dependency.name} did not answer within ${timeoutMs} ms`
    : `${dependency.name} is unavailable (${dependency.failure?.code ?? 'error'})`;
}
