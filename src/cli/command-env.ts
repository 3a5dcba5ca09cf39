/**
 * What every `lucius` command handler gets: the runtime (built on first use, so `--help` and usage
 * errors need no settings), where to print, and how to set the exit code.
 */
import type { CliRuntime } from './cli-runtime';
import type { ExitCode } from './exit-codes';

export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

export interface CommandEnv {
  runtime(): CliRuntime;
  readonly io: CliIo;
  /** The process's exit code once the command returns (the highest one set wins). */
  exit(code: ExitCode): void;
  /**
   * For long-running commands that stop cleanly: from the first call, SIGINT/SIGTERM no longer end
   * the process but resolve the promise returned (a second signal still ends it at once).
   * Other commands end on the signal as any process does.
   */
  stopSignal(): Promise<void>;
  isStopped(): boolean;
}

/** Prints `data` as one JSON document with `--json`, else the human text. */
export function print(env: CommandEnv, json: boolean | undefined, data: unknown, human: () => string): void {
  env.io.stdout(json === true ? `${JSON.stringify(data, null, 2)}\n` : `${human()}\n`);
}

/** A fixed-width table for human output. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
