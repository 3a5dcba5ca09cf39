#!/usr/bin/env node
/**
 * `lucius`: the operations command line. It reads the same settings as the app (the environment,
 * over the `Values` of local.settings.json in the working directory), works on the ledger directly
 * and reaches orchestrations through the Durable Functions HTTP API (LUCIUS_DURABLE_API_URL,
 * LUCIUS_DURABLE_API_KEY). See README "The lucius CLI".
 *
 * `main(argv)` resolves the exit code: 0 ok, 1 failure, 2 usage error, 3 not found, 4 partial
 * failure in bulk. Errors are printed on stderr (with `--json`, as a JSON object).
 */
import { Command, CommanderError } from 'commander';
import { settingsForTool } from '../config/local-settings';
import { CliRuntime } from './cli-runtime';
import type { CliIo, CommandEnv } from './command-env';
import { registerGrantsCommands } from './commands/grants';
import { registerJobsCommands } from './commands/jobs';
import { registerQuarantineCommands } from './commands/quarantine';
import { registerSmokeCommand } from './commands/smoke';
import { registerSweepCommands } from './commands/sweep';
import { registerTokenCommand } from './commands/token';
import { EXIT, exitCodeOf, type ExitCode } from './exit-codes';

const PROCESS_IO: CliIo = {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
};

export function buildProgram(env: CommandEnv): Command {
  const program = new Command('lucius')
    .description('Operate Lucius: jobs, the reply quarantine, reconciliation sweeps and shard-owning loops')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeOut: env.io.stdout, writeErr: env.io.stderr })
    .exitOverride();
  registerJobsCommands(program, env);
  registerQuarantineCommands(program, env);
  registerSweepCommands(program, env);
  registerSmokeCommand(program, env);
  registerTokenCommand(program, env);
  registerGrantsCommands(program, env);
  for (const command of allCommands(program))
    command.exitOverride().configureOutput({ writeOut: env.io.stdout, writeErr: env.io.stderr });
  return program;
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((child) => [child, ...allCommands(child)]);
}

export async function main(argv: readonly string[], io: CliIo = PROCESS_IO): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  let runtime: CliRuntime | undefined;
  let stop: () => void = () => undefined;
  let stoppedFlag = false;
  let stopAware = false;
  const stopped = new Promise<void>((resolve) => {
    stop = () => {
      stoppedFlag = true;
      resolve();
    };
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (!stopAware || stoppedFlag) process.exit(signal === 'SIGINT' ? 130 : 143);
    stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const env: CommandEnv = {
    runtime: () => (runtime ??= new CliRuntime(settingsForTool())),
    io,
    exit: (code) => {
      exitCode = Math.max(exitCode, code) as ExitCode;
    },
    stopSignal: () => {
      stopAware = true;
      return stopped;
    },
    isStopped: () => stoppedFlag,
  };
  const json = argv.includes('--json');
  try {
    await buildProgram(env).parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end here too, successfully.
      exitCode = error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    } else {
      exitCode = exitCodeOf(error);
      const message = error instanceof Error ? error.message : String(error);
      const code = (error as { code?: unknown }).code;
      io.stderr(
        json
          ? `${JSON.stringify({ error: { message, exitCode, ...(typeof code === 'string' ? { code } : {}) } })}\n`
          : `lucius: ${message}\n`,
      );
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await runtime?.close().catch(() => undefined);
  }
  return exitCode;
}

if (require.main === module) {
  void main(process.argv.slice(2)).then((code) => process.exit(code));
}
