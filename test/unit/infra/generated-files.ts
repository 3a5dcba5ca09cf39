/** Checks shared by the tests of generated deployment files (scripts/generators/). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { GeneratedFile } from '../../../scripts/generators/generated-file';

export const REPO_ROOT = join(__dirname, '..', '..', '..');

export function committedContent(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** The committed file is what its generator writes now; the message says how to refresh it. */
export function expectCommittedUpToDate(file: GeneratedFile): void {
  const expected = file.generate();
  const committed = committedContent(file.path);
  if (committed !== expected) {
    throw new Error(
      `${file.path} is out of date with its source: run \`npm run generate\` and commit the result`,
    );
  }
}

/**
 * What Prettier (the project's CLI and configuration) would write for the content: generated files
 * must pass `npm run format:check`. The CLI runs in a child process because Prettier loads its
 * plugins with dynamic imports, which jest's module sandbox does not allow.
 */
export function prettierFormatted(path: string, content: string): string {
  const cli = join(REPO_ROOT, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
  return execFileSync(process.execPath, [cli, '--stdin-filepath', path], {
    cwd: REPO_ROOT,
    input: content,
    encoding: 'utf8',
  });
}
