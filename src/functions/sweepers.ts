/**
 * The sweeper timers: `driftSweeper` (orchestrations, work lists, in-flight counters, retention) and
 * `leaseSweeper` (step and job deadlines, unconfirmed dispatches), on LUCIUS_DRIFT_SWEEP_SCHEDULE and
 * LUCIUS_LEASE_SWEEP_SCHEDULE. Each run sweeps the shards whose lease it can take for the run and
 * logs one `sweep.completed` line with the counters. Each timer is an owner of its own (name, host,
 * process), so two runs never hold one shard at once, whichever timer or `lucius loop` they meet;
 * the default schedules (second 15 of every minute; seconds 0 and 30) keep the two timers apart.
 */
import { hostname } from 'node:os';
import { app, type InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { sweepLeasedShards, type SweepKind } from '../usecases/sweep';

const HOST = `functions:${hostname()}:${process.pid}`;

async function runSweeper(kind: Exclude<SweepKind, 'all'>, context: InvocationContext): Promise<void> {
  await sweepLeasedShards(getServices().sweeper(context), `${context.functionName}@${HOST}`, kind);
}

const { settings } = getServices();

app.timer('driftSweeper', {
  schedule: settings.sweep.driftSchedule,
  extraInputs: [df.input.durableClient()],
  handler: (_timer, context) => runSweeper('drift', context),
});

app.timer('leaseSweeper', {
  schedule: settings.sweep.leaseSchedule,
  extraInputs: [df.input.durableClient()],
  handler: (_timer, context) => runSweeper('lease', context),
});
