/**
 * The `lucius` binary as tests use it: a real child process started from the TypeScript sources
 * (test/cli/lucius-cli.js), with an environment of the test's own (the parent's variables are not
 * inherited, so a developer's settings never leak in) and a working directory without
 * local.settings.json unless the test writes one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CLI = join(__dirname, 'lucius-cli.js');

export interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface Running {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  readonly finished: Promise<Finished>;
}

export function emptyDirectory(): string {
  return mkdtempSync(join(tmpdir(), 'lucius-cli-'));
}

export function startLucius(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd: string = emptyDirectory(),
): Running {
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const finished = new Promise<Finished>((resolve) =>
    child.once('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, stdout: () => stdout, stderr: () => stderr, finished };
}

export function runLucius(
  args: readonly string[],
  env: Readonly<Record<string, string>>,
  cwd?: string,
): Promise<Finished> {
  return startLucius(args, env, cwd).finished;
}
