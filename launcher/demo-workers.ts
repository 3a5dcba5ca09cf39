/**
 * The demo OCR/EMBEDDING/SIS workers (workers/) as `up` starts them: their modes from `--workers
 * SPEC`, else LUCIUS_DEMO_WORKERS, else all `normal` (`off` or `--no-workers`: none); lazy ACK from
 * `--ack-after MS`, else LUCIUS_DEMO_ACK_AFTER_MS (unset: ACK before the work); and on the lane
 * topics the app publishes to, read from Lucius's own settings.
 */
import type { Flags, Usage } from '../devhost/launch';
import { appProcessEnv } from '../devhost/host/functions-core';
import { parseSettings } from '../src/config/settings';
import { startDemoWorkers, type DemoWorkers } from '../workers/demo-workers';
import { WorkerConfigError } from '../workers/errors';
import { parseWorkerModes, type WorkerModes } from '../workers/modes';

/** The workers' modes; undefined (no workers) for `--no-workers` or `off`. Checked before anything starts. */
export function demoWorkerModes(flags: Flags, usage: Usage): WorkerModes | undefined {
  const spec = flags.values.get('workers') ?? process.env.LUCIUS_DEMO_WORKERS ?? '';
  if (flags.switches.has('no-workers') || spec.trim().toLowerCase() === 'off') return undefined;
  try {
    return parseWorkerModes(spec);
  } catch (error) {
    if (error instanceof WorkerConfigError) throw usage(error.message);
    throw error;
  }
}

/** Lazy ACK (workers/ack-gate.ts): the ms of work after which a worker ACKs; undefined: ACK first. */
export function demoWorkerAckAfter(flags: Flags, usage: Usage): number | undefined {
  const raw = (flags.values.get('ack-after') ?? process.env.LUCIUS_DEMO_ACK_AFTER_MS ?? '').trim();
  if (raw === '') return undefined;
  if (!/^[1-9]\d*$/.test(raw))
    throw usage(
      `demo workers: --ack-after (or LUCIUS_DEMO_ACK_AFTER_MS) must be a positive number of milliseconds (got "${raw}")`,
    );
  return Number(raw);
}

/** The demo workers on the emulator at `connectionString`, on the app's lane topics. */
export async function runDemoWorkers(
  modes: WorkerModes,
  connectionString: string,
  ackAfterMs?: number,
): Promise<DemoWorkers> {
  const { serviceBus: messaging, admission } = parseSettings({
    ...appProcessEnv(),
    LUCIUS_STORAGE_BACKEND: 'memory',
  });
  return startDemoWorkers({
    connectionString,
    topicPrefix: messaging.topicPrefix,
    lanes: admission.laneCount,
    modes,
    ...(ackAfterMs === undefined ? {} : { ackAfterMs }),
    log: (line) => process.stdout.write(`[workers] ${line}\n`),
  });
}
