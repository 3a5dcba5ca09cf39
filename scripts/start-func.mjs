#!/usr/bin/env node
/**
 * The first step of `npm run start:func`: makes sure Azure Functions Core Tools (`func`) can be run
 * before anything is built. `func` is looked for on PATH and in the project's node_modules/.bin
 * (where `npm i -D azure-functions-core-tools@4` puts it). Found: prints where, exits 0, and the
 * script goes on (`npm run build && func start`). Missing: says how to get it and exits 1.
 *
 * Plain JavaScript on purpose: it runs before the TypeScript build.
 */
import { statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import process from 'node:process';
import { fileURLToPath } from 'node:url';

const PROJECT_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The names `func` may have in a folder: `func`, and on Windows `func.cmd`, `func.exe`, ... (PATHEXT). */
function candidateNames() {
  if (process.platform !== 'win32') return ['func'];
  const extensions = (process.env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter(Boolean);
  return ['func', ...extensions.map((extension) => `func${extension.toLowerCase()}`)];
}

function isExecutableFile(path) {
  try {
    const stat = statSync(path);
    // On Windows any file with a PATHEXT extension runs; elsewhere an execute bit must be set.
    return stat.isFile() && (process.platform === 'win32' || (stat.mode & 0o111) !== 0);
  } catch {
    return false;
  }
}

/** The path of the `func` that would run, or undefined. */
export function findFunc() {
  const folders = [
    ...(process.env.PATH ?? '').split(delimiter).filter(Boolean),
    join(PROJECT_DIR, 'node_modules', '.bin'),
  ];
  for (const folder of folders) {
    for (const name of candidateNames()) {
      const path = join(folder, name);
      if (isExecutableFile(path)) return path;
    }
  }
  return undefined;
}

const found = findFunc();
if (found === undefined) {
  process.stderr.write(
    [
      'start:func: Azure Functions Core Tools (func) was not found on PATH or in node_modules/.bin.',
      '`npm run start:func` builds Lucius and runs it under `func start`, which needs Core Tools v4:',
      '',
      '  npm i -g azure-functions-core-tools@4 --unsafe-perm true',
      '',
      'or install it with your package manager (Homebrew, winget, apt, ...), as',
      'https://learn.microsoft.com/azure/azure-functions/functions-run-local describes.',
      'Without Core Tools, `npm start` runs Lucius on devhost (its own local Functions host).',
      '',
    ].join('\n'),
  );
  process.exit(1);
}
process.stdout.write(`start:func: using ${found}\n`);
