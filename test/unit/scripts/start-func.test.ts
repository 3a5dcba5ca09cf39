/**
 * scripts/start-func.mjs, the check `npm run start:func` runs before building: a real `node`
 * process with a PATH the test controls. Without `func` it says how to get Core Tools and exits 1;
 * with one (a stand-in executable) it names it and exits 0.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const PROJECT_DIR = join(__dirname, '..', '..', '..');
const SCRIPT = join(PROJECT_DIR, 'scripts', 'start-func.mjs');
let folder: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'lucius-start-func-'));
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function check(path: string) {
  return spawnSync(process.execPath, [SCRIPT], {
    cwd: PROJECT_DIR,
    env: { PATH: path },
    encoding: 'utf8',
  });
}

describe('scripts/start-func.mjs', () => {
  it('says how to get Core Tools and exits 1 when func is on neither PATH nor node_modules/.bin', () => {
    // The project has no Core Tools of its own: its installer downloads a binary.
    expect(existsSync(join(PROJECT_DIR, 'node_modules', '.bin', 'func'))).toBe(false);
    const result = check(folder);
    expect(result.status).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(
      'Azure Functions Core Tools (func) was not found on PATH or in node_modules/.bin',
    );
    expect(result.stderr).toContain('npm i -g azure-functions-core-tools@4 --unsafe-perm true');
    expect(result.stderr).toContain('https://learn.microsoft.com/azure/azure-functions/functions-run-local');
  });

  it('names the func it found on PATH and exits 0', () => {
    const func = join(folder, 'func');
    writeFileSync(func, '#!/bin/sh\nexit 0\n');
    chmodSync(func, 0o755);
    const result = check(['/nonexistent', folder].join(':'));
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(`start:func: using ${func}\n`);
  });

  it('does not take a func file that cannot be executed', () => {
    writeFileSync(join(folder, 'func'), 'not a program\n');
    chmodSync(join(folder, 'func'), 0o644);
    expect(check(folder).status).toBe(1);
  });

  it('stops npm run start:func before the build when func is missing', () => {
    // PATH holds node and npm only; npm adds node_modules/.bin, which has no func either.
    const result = spawnSync('npm', ['run', 'start:func'], {
      cwd: PROJECT_DIR,
      env: { PATH: dirname(process.execPath), HOME: folder },
      encoding: 'utf8',
    });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('npm i -g azure-functions-core-tools@4 --unsafe-perm true');
    expect(result.stdout).toContain('node scripts/start-func.mjs');
    expect(result.stdout).not.toContain('tsc -b');
  });
});
