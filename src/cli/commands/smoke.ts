/**
 * `lucius smoke --url <app> [--key K] [--token JWT | --scope S | --dev-token [--data DIR]] [--tenant T]
 * [--request-type R] [--payload JSON] [--timeout S]`: runs one job end to end against a deployment
 * through its HTTP API (smoke-run.ts) and prints each status change as it is seen, then the
 * timings. Exit 0 when the job SUCCEEDED; 1 otherwise (not ready, refused, FAILED, CANCELLED, not
 * finished within --timeout, unreachable, no token to be had), with the reason on stderr; 2 for a
 * bad option. Needs no settings: only the app's URL, on Azure a function key (--key or
 * LUCIUS_FUNCTION_KEY), and a bearer token with Lucius.Submit and Lucius.Read for the tenant
 * (smoke-token.ts: --token or LUCIUS_TOKEN, --scope for DefaultAzureCredential, --dev-token for npm start).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Option, type Command } from 'commander';
import { print, type CommandEnv } from '../command-env';
import { EXIT, UsageError } from '../exit-codes';
import { parsePositiveInt } from '../job-selection';
import { DEFAULT_DEV_DATA_DIR } from '../../config/auth-settings';
import { runSmoke, sampleSteps, type SmokeEvent, type SmokeOutcome } from './smoke-run';
import { smokeTokenSource } from './smoke-token';

interface SmokeCliOptions {
  readonly url: string;
  readonly key?: string;
  readonly token?: string;
  readonly scope?: string;
  readonly devToken?: boolean;
  readonly data: string;
  readonly tenant: string;
  readonly requestType: string;
  readonly payload?: string;
  readonly routingKey?: string;
  readonly timeout: string;
  readonly interval: string;
  readonly health: boolean;
  readonly json?: boolean;
}

export function registerSmokeCommand(program: Command, env: CommandEnv): void {
  program
    .command('smoke')
    .description(
      'run one job end to end against a deployment and report each status change (exit 0 on SUCCEEDED)',
    )
    .requiredOption(
      '--url <url>',
      'the function app, e.g. https://<app>.azurewebsites.net or http://localhost:7071',
    )
    .addOption(
      new Option('--key <key>', 'a function key of the app (x-functions-key)').env('LUCIUS_FUNCTION_KEY'),
    )
    .addOption(
      new Option('--token <jwt>', 'a bearer token with Lucius.Submit and Lucius.Read for the tenant').env(
        'LUCIUS_TOKEN',
      ),
    )
    .option(
      '--scope <scope>',
      "get the bearer token with DefaultAzureCredential for the app's scope, e.g. api://<app id>/.default",
    )
    .option('--dev-token', 'mint a token of the local dev issuer (npm start, LUCIUS_AUTH_MODE=dev)')
    .addOption(
      new Option('--data <folder>', "with --dev-token: the dev issuer's data folder (npm start's)")
        .env('LUCIUS_AUTH_DEV_DATA_DIR')
        .default(DEFAULT_DEV_DATA_DIR),
    )
    .option('--tenant <tenant>', 'the tenant the job runs for (its lane follows from it)', 'lucius-smoke')
    .option('--request-type <type>', 'the protocol to run', 'OCR->EMBEDDING')
    .option(
      '--payload <json>',
      "the command's payload.steps (default: samples for ocr, embedding and sis steps)",
    )
    .option('--routing-key <key>', 'lane selection (default: the tenant)')
    .option('--timeout <seconds>', 'give up when the job has not finished after this long', '120')
    .option('--interval <ms>', 'poll the job this often', '500')
    .option('--no-health', 'do not ask GET /api/healthz first')
    .option('--json', 'print one JSON document at the end instead of lines')
    .action(async (options: SmokeCliOptions, command: Command) => {
      const apiUrl = apiUrlOf(options.url);
      const timeoutMs = parsePositiveInt('--timeout', options.timeout, 86_400) * 1000;
      const steps = stepsOf(options);
      // LUCIUS_TOKEN gives way to an explicit --scope or --dev-token.
      const tokenFromEnv = command.getOptionValueSource('token') === 'env';
      const explicit = options.scope !== undefined || options.devToken === true;
      const bearerToken = smokeTokenSource({
        ...(options.token === undefined || (tokenFromEnv && explicit) ? {} : { token: options.token }),
        ...(options.scope === undefined ? {} : { scope: options.scope }),
        ...(options.devToken === true ? { devToken: true } : {}),
        data: options.data,
        apiUrl,
        tenantId: options.tenant,
        timeoutMs,
      });
      // A token that cannot be had stops the run before anything is sent.
      await bearerToken?.();
      const outcome = await runSmoke(
        {
          apiUrl,
          ...(options.key === undefined || options.key === '' ? {} : { key: options.key }),
          tenantId: options.tenant,
          requestType: options.requestType,
          steps,
          ...(options.routingKey === undefined ? {} : { routingKey: options.routingKey }),
          timeoutMs,
          intervalMs: parsePositiveInt('--interval', options.interval, 60_000),
          checkHealth: options.health,
        },
        {
          fetch,
          ...(bearerToken === undefined ? {} : { bearerToken }),
          now: () => performance.now(),
          sleep: (ms) => sleep(ms),
          onEvent: (event) => {
            if (options.json !== true) env.io.stdout(`${eventLine(event)}\n`);
          },
        },
      );
      print(env, options.json, outcome, () => summary(outcome));
      if (!outcome.succeeded) {
        if (options.json !== true) env.io.stderr(`lucius smoke: ${outcome.reason ?? outcome.outcome}\n`);
        env.exit(EXIT.failure);
      }
    });
}

/** The API base (`…/api`) of an app URL given with or without `/api`. */
export function apiUrlOf(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(
      `--url must be the function app's URL, e.g. https://<app>.azurewebsites.net (got ${url})`,
    );
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
    throw new UsageError(`--url must be an http(s) URL (got ${url})`);
  const base = `${parsed.origin}${parsed.pathname.replace(/\/+$/, '')}`;
  return base.endsWith('/api') ? base : `${base}/api`;
}

function stepsOf(options: SmokeCliOptions): Record<string, unknown> {
  if (options.payload !== undefined) {
    let steps: unknown;
    try {
      steps = JSON.parse(options.payload);
    } catch {
      throw new UsageError('--payload must be a JSON object: the payload.steps of the command');
    }
    if (steps === null || typeof steps !== 'object' || Array.isArray(steps))
      throw new UsageError('--payload must be a JSON object: the payload.steps of the command');
    return steps as Record<string, unknown>;
  }
  const samples = sampleSteps(options.requestType);
  if (samples === undefined)
    throw new UsageError(
      `no sample payload for the steps of ${options.requestType}: give --payload '{"<step id>": {…}}'`,
    );
  return samples;
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(2)} s`;
}

function eventLine(event: SmokeEvent): string {
  const at = `+${(event.atMs / 1000).toFixed(2)}s`.padStart(9);
  return `${at}  ${event.subject} ${event.status}${event.detail === undefined ? '' : `  ${event.detail}`}`;
}

function summary(outcome: SmokeOutcome): string {
  const steps = outcome.steps
    .map(
      (step) =>
        `${step.stepId} ${step.status}${step.durationMs === undefined ? '' : ` in ${seconds(step.durationMs)}`}` +
        ` (${step.attempts} attempt${step.attempts === 1 ? '' : 's'})`,
    )
    .join(', ');
  const job =
    outcome.jobId === undefined
      ? ''
      : ` job ${outcome.jobId}${outcome.jobDurationMs === undefined ? '' : ` ran ${seconds(outcome.jobDurationMs)}`}`;
  const what = [job.trim(), steps].filter((part) => part !== '').join('; ');
  return `${outcome.outcome} after ${seconds(outcome.elapsedMs)}${what === '' ? '' : `: ${what}`}`;
}
