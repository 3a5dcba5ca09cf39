/**
 * A crash in the middle of writing an episode's history. An episode of over 100 events is written in
 * several Table transactions (an entity-group transaction holds at most 100 rows); the engine runs as
 * a real child process (fixtures/batch-crash-app/run-engine.js) on Azurite with
 * DEVHOST_CRASH_AT=history-batch, so it SIGKILLs itself right after the first transaction. A new
 * process on the same tables must finish the instance exactly as an uncrashed run does.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InstanceStatus } from '../../../../devhost/durable/durable-api';
import { TableDurableStore } from '../../../../devhost/durable/engine';
import { testTableConnectionString } from '../../../support/table-storage';
import { uniqueTablePrefix } from '../../../support/unique';

const RUNNER = join(__dirname, '..', '..', 'fixtures', 'batch-crash-app', 'run-engine.js');
const INSTANCE = 'squares';
/** ExecutionStarted, 110 TaskScheduled and the episode's frame: 113 events, two transactions. */
const COUNT = 110;
const SUM_OF_SQUARES = (COUNT * (COUNT + 1) * (2 * COUNT + 1)) / 6;

interface Run {
  readonly exit: string;
  readonly output: string;
  readonly status?: InstanceStatus;
}

const workDir = mkdtempSync(join(tmpdir(), 'devhost-batch-crash-'));

afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** Runs the engine process to its end (finished instance, or the kill); bounded by the test's timeout. */
function runEngine(hub: string, log: string, options: { start?: boolean; crashAt?: string }): Promise<Run> {
  const child = spawn(process.execPath, [RUNNER], {
    env: {
      ...process.env,
      AzureWebJobsStorage: testTableConnectionString(),
      BATCH_APP_HUB: hub,
      BATCH_APP_LOG: log,
      BATCH_APP_START: options.start ? `${INSTANCE}:${COUNT}` : '',
      BATCH_APP_WAIT: INSTANCE,
      DEVHOST_CRASH_AT: options.crashAt ?? '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      const line = /^status=(.*)$/m.exec(output)?.[1];
      resolve({
        exit: signal ?? `code ${code}`,
        output,
        ...(line === undefined ? {} : { status: JSON.parse(line) as InstanceStatus }),
      });
    });
  });
}

/** How many events of each type the displayed history has (activities finish in any order). */
function eventCounts(status: InstanceStatus | undefined): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of status?.historyEvents ?? []) {
    const type = String(event.EventType);
    counts[type] = (counts[type] ?? 0) + 1;
  }
  return counts;
}

function sideEffects(log: string): number[] {
  if (!existsSync(log)) return [];
  const seen = new Set(
    readFileSync(log, 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map(Number),
  );
  return [...seen].sort((a, b) => a - b);
}

describe('an episode whose history takes several Table transactions', () => {
  it('finishes as an uncrashed run does after a kill between its transactions', async () => {
    const uncrashedLog = join(workDir, 'uncrashed.log');
    const uncrashed = await runEngine(uniqueTablePrefix('batchok'), uncrashedLog, { start: true });
    expect(uncrashed.exit).toBe('code 0');
    expect(uncrashed.status).toMatchObject({ runtimeStatus: 'Completed', output: SUM_OF_SQUARES });

    const hub = uniqueTablePrefix('batchcrash');
    const log = join(workDir, 'crashed.log');
    const killed = await runEngine(hub, log, { start: true, crashAt: 'history-batch' });
    expect(killed.exit).toBe('SIGKILL');
    expect(killed.output).toContain('DEVHOST_CRASH_AT=history-batch reached');

    // The kill left the first transaction's 100 events stored and the rest, with the commit mark, not.
    const store = new TableDurableStore({
      connection: { connectionString: testTableConnectionString() },
      tablePrefix: hub,
    });
    const record = await store.getInstance(INSTANCE);
    expect(record?.runtimeStatus).toBe('Pending');
    const partial = await store.getHistory(INSTANCE, record?.executionId ?? '');
    expect(partial).toHaveLength(100);
    expect(partial.some((event) => event.episode !== undefined)).toBe(false);

    const resumed = await runEngine(hub, log, {});
    expect(resumed.exit).toBe('code 0');
    expect(resumed.status).toMatchObject({ runtimeStatus: 'Completed', output: SUM_OF_SQUARES });
    expect(eventCounts(resumed.status)).toEqual(eventCounts(uncrashed.status));
    expect(eventCounts(resumed.status)).toEqual({
      ExecutionStarted: 1,
      TaskCompleted: COUNT,
      ExecutionCompleted: 1,
    });
    const all = Array.from({ length: COUNT }, (_, i) => i + 1);
    expect(sideEffects(uncrashedLog)).toEqual(all);
    expect(sideEffects(log)).toEqual(all);
  }, 120_000);
});
