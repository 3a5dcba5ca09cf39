/**
 * The app entry (package.json `main`) as a Functions host loads it: the host supplies the module
 * `@azure/functions-core`, and every `app.http` registration reaches its `registerFunction` with the
 * binding metadata. Bad settings stop the load with the offending variables named.
 */
interface Registration {
  readonly name: string;
  readonly bindings: Record<
    string,
    { type: string; direction: string; route?: string; methods?: string[]; authLevel?: string }
  >;
}

function loadEntry(env: Record<string, string>): Registration[] {
  const registrations: Registration[] = [];
  const saved = { ...process.env };
  for (const key of Object.keys(process.env))
    if (key.startsWith('LUCIUS_') || key.startsWith('AzureWebJobs')) delete process.env[key];
  Object.assign(process.env, env);
  try {
    jest.isolateModules(() => {
      jest.doMock(
        '@azure/functions-core',
        () => ({
          setProgrammingModel: () => undefined,
          registerHook: () => ({ dispose: () => undefined }),
          registerFunction: (metadata: Registration) => {
            registrations.push(metadata);
            return { dispose: () => undefined };
          },
        }),
        { virtual: true },
      );
      // The host loads the entry with require; isolateModules needs it synchronous.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      require('../../src/index');
    });
  } finally {
    process.env = saved;
  }
  return registrations;
}

function httpTrigger(registration: Registration) {
  return Object.values(registration.bindings).find((b) => b.type === 'httpTrigger');
}

describe('app entry', () => {
  it('registers the HTTP functions with their routes, methods and auth levels', () => {
    const registrations = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }).filter(
      (r) => httpTrigger(r) !== undefined,
    );
    const table = registrations.map((r) => [
      r.name,
      httpTrigger(r)?.route,
      httpTrigger(r)?.methods?.join(','),
      httpTrigger(r)?.authLevel,
    ]);
    expect(table).toEqual([
      ['submitCommand', 'v1/commands', 'POST', 'function'],
      ['orchestrate', 'v1/orchestrate', 'POST', 'function'],
      ['getJob', 'v1/jobs/{jobId}', 'GET', 'function'],
      ['getJobSteps', 'v1/jobs/{jobId}/steps', 'GET', 'function'],
      ['listJobs', 'v1/jobs', 'GET', 'function'],
      ['cancelJob', 'v1/jobs/{jobId}/cancel', 'POST', 'function'],
      ['redriveJob', 'v1/jobs/{jobId}/redrive', 'POST', 'function'],
      ['deleteJob', 'v1/jobs/{jobId}', 'DELETE', 'function'],
      ['ackReply', 'v1/jobs/{jobId}/steps/{stepId}/ack', 'POST', 'function'],
      ['resultReply', 'v1/jobs/{jobId}/steps/{stepId}/result', 'POST', 'function'],
      ['heartbeatReply', 'v1/jobs/{jobId}/steps/{stepId}/heartbeat', 'POST', 'function'],
      ['health', 'health', 'GET', 'anonymous'],
      ['healthz', 'healthz', 'GET', 'anonymous'],
    ]);
  });

  it('registers a Service Bus trigger per reply lane, named from settings', () => {
    const triggers = loadEntry({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_LANE_COUNT: '3',
      LUCIUS_SERVICEBUS_REPLY_PREFIX: 'replies-',
      LUCIUS_SERVICEBUS_REPLY_SUBSCRIPTION: 'me',
    }).flatMap((r) =>
      Object.values(r.bindings)
        .filter((b) => b.type === 'serviceBusTrigger')
        .map((b) => [
          r.name,
          (b as Record<string, unknown>).topicName,
          (b as Record<string, unknown>).subscriptionName,
        ]),
    );
    expect(triggers).toEqual([
      ['replies-p0', 'replies-0', 'me'],
      ['replies-p1', 'replies-1', 'me'],
      ['replies-p2', 'replies-2', 'me'],
    ]);
  });

  it('registers jobOrchestrator and its activities', () => {
    const kinds = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }).flatMap((r) =>
      Object.values(r.bindings)
        .filter((b) => b.type === 'orchestrationTrigger' || b.type === 'activityTrigger')
        .map((b) => `${b.type}:${r.name}`),
    );
    expect(kinds).toEqual([
      'activityTrigger:startJob',
      'activityTrigger:recordAttempt',
      'activityTrigger:readAttempt',
      'activityTrigger:publishDirective',
      'activityTrigger:recordPublishFailure',
      'activityTrigger:resolveTimeout',
      'activityTrigger:finishJob',
      'activityTrigger:cancelJobRun',
      'activityTrigger:expireJob',
      'orchestrationTrigger:jobOrchestrator',
    ]);
  });

  it('registers the sweeper timers on their schedules, with the durable client input', () => {
    const timers = loadEntry({
      LUCIUS_STORAGE_BACKEND: 'memory',
      LUCIUS_DRIFT_SWEEP_SCHEDULE: '*/20 * * * * *',
    }).flatMap((r) => {
      const bindings = Object.values(r.bindings);
      return bindings
        .filter((b) => b.type === 'timerTrigger')
        .map((b) => [
          r.name,
          (b as Record<string, unknown>).schedule,
          bindings.some((input) => input.type === 'durableClient' && input.direction === 'in'),
        ]);
    });
    expect(timers).toEqual([
      ['driftSweeper', '*/20 * * * * *', true],
      ['leaseSweeper', '*/30 * * * * *', true],
    ]);
  });

  it('gives the admission functions the durable client input binding', () => {
    const submit = loadEntry({ LUCIUS_STORAGE_BACKEND: 'memory' }).find((r) => r.name === 'submitCommand');
    expect(Object.values(submit?.bindings ?? {}).map((b) => [b.type, b.direction])).toContainEqual([
      'durableClient',
      'in',
    ]);
  });

  it('stops loading with every bad setting named', () => {
    expect(() => loadEntry({ LUCIUS_STORAGE_BACKEND: 'ledger', LUCIUS_MAX_ATTEMPTS: '0' })).toThrow(
      /Invalid settings \(2\): LUCIUS_MAX_ATTEMPTS: must be at least 1 \(got "0"\); LUCIUS_TABLE_CONNECTION: is required/,
    );
  });
});
