/**
 * Loads a function app the way the Node worker does: reads `package.json` `main` (a file or a glob,
 * e.g. `dist/src/functions/*.js`), requires every matching file with Node's own loader while
 * `@azure/functions-core` is devhost's, and returns what the app registered together with the app's
 * own `@azure/functions` module (devhost builds requests and contexts from the app's copy, so the
 * classes the handlers see are the ones their code imports).
 *
 * A `.ts` entry is loaded by transpiling each TypeScript module on require (typescript's
 * `transpileModule`, CommonJS, no type check), so an app can be hosted from source without a build.
 *
 * Errors: `app_not_found` (no package.json), `entry_not_found` (main missing or matches nothing),
 * `app_load_failed` (the entry threw; the cause is the app's error).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { DevhostError } from '../common/errors';
import { captureRegistrations, nativeModule, type AppCapture } from './functions-core';

export interface LoadedApp {
  readonly appDir: string;
  readonly entryFiles: readonly string[];
  readonly capture: AppCapture;
  /** The app's `@azure/functions` module. */
  readonly azureFunctions: typeof import('@azure/functions');
}

export interface LoadAppOptions {
  /** Overrides package.json `main` (a path or glob relative to the app directory). */
  readonly entry?: string;
}

export function loadApp(appDirInput: string, options: LoadAppOptions = {}): LoadedApp {
  const appDir = resolve(appDirInput);
  const packagePath = join(appDir, 'package.json');
  if (!existsSync(packagePath)) {
    throw new DevhostError('app_not_found', `no package.json in ${appDir}: not a function app directory`);
  }
  const main = options.entry ?? readMain(packagePath);
  const entryFiles = resolveEntry(appDir, main);
  const native = nativeModule();
  if (entryFiles.some((file) => file.endsWith('.ts'))) registerTypeScript();
  purgeAppModules(appDir);

  const appRequire = native.createRequire(packagePath);
  const capture = captureRegistrations(() => {
    for (const file of entryFiles) {
      try {
        appRequire(file);
      } catch (error) {
        const reason = error instanceof Error ? error.message : String(error);
        throw new DevhostError('app_load_failed', `loading ${relative(appDir, file)} failed: ${reason}`, {
          cause: error,
        });
      }
    }
  });
  let azureFunctions: typeof import('@azure/functions');
  try {
    azureFunctions = appRequire('@azure/functions') as typeof import('@azure/functions');
  } catch (error) {
    throw new DevhostError('app_load_failed', `the app in ${appDir} cannot resolve @azure/functions`, {
      cause: error,
    });
  }
  return { appDir, entryFiles, capture, azureFunctions };
}

function readMain(packagePath: string): string {
  let main: unknown;
  try {
    main = (JSON.parse(readFileSync(packagePath, 'utf8')) as { main?: unknown }).main;
  } catch (error) {
    throw new DevhostError('app_not_found', `${packagePath} is not valid JSON`, { cause: error });
  }
  if (typeof main !== 'string' || main.trim() === '') {
    throw new DevhostError('entry_not_found', `${packagePath} has no "main": the Functions worker needs it`);
  }
  return main;
}

/** The files `main` names; a glob matches files under the app directory, sorted. */
export function resolveEntry(appDir: string, main: string): string[] {
  const pattern = main.replace(/\\/g, '/').replace(/^\.\//, '');
  if (!/[*?{[]/.test(pattern)) {
    const file = isAbsolute(pattern) ? pattern : join(appDir, pattern);
    if (!existsSync(file)) {
      throw new DevhostError(
        'entry_not_found',
        `the app's main "${main}" does not exist (${file}); build the app first (npm run build)?`,
      );
    }
    return [file];
  }
  const matcher = globToRegExp(pattern);
  const base = pattern.split('/').filter((part, index, parts) => {
    const prefix = parts.slice(0, index + 1);
    return !prefix.some((segment) => /[*?{[]/.test(segment));
  });
  const root = join(appDir, ...base);
  const files = existsSync(root) ? walk(root).map((file) => relative(appDir, file).split(sep).join('/')) : [];
  const matches = files.filter((file) => matcher.test(file)).sort();
  if (matches.length === 0) {
    throw new DevhostError('entry_not_found', `the app's main glob "${main}" matches no file in ${appDir}`);
  }
  return matches.map((file) => join(appDir, file));
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const full = join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

/**
 * `*`, `?`, `**`, `{a,b}` and `[abc]`, as the glob patterns package.json `main` uses. Brace
 * alternatives may hold globs, slashes and nested braces (`dist/{index.js,functions/*.js}`), as the
 * worker's glob library expands them.
 */
export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${globBody(glob)}$`);
}

function globBody(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i += 1) {
    const char = glob[i] as string;
    if (char === '*') {
      if (glob[i + 1] === '*') {
        const slash = glob[i + 2] === '/';
        out += slash ? '(?:.*/)?' : '.*';
        i += slash ? 2 : 1;
      } else out += '[^/]*';
    } else if (char === '?') out += '[^/]';
    else if (char === '{') {
      const close = matchingBrace(glob, i);
      if (close < 0) out += '\\{';
      else {
        out += `(?:${splitAlternatives(glob.slice(i + 1, close))
          .map(globBody)
          .join('|')})`;
        i = close;
      }
    } else if (char === '[') {
      const close = glob.indexOf(']', i);
      if (close < 0) out += '\\[';
      else {
        out += glob.slice(i, close + 1);
        i = close;
      }
    } else out += escape(char);
  }
  return out;
}

/** The index of the `}` closing the `{` at `open` (nesting counted), or -1. */
function matchingBrace(glob: string, open: number): number {
  let depth = 0;
  for (let i = open; i < glob.length; i += 1) {
    if (glob[i] === '{') depth += 1;
    else if (glob[i] === '}') {
      depth -= 1;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/** `a,b{c,d},e` → `a`, `b{c,d}`, `e`: commas at the top level only. */
function splitAlternatives(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i += 1) {
    if (body[i] === '{') depth += 1;
    else if (body[i] === '}') depth -= 1;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(body.slice(start));
  return parts;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}

/** A reload must run the app's modules again (they register as a side effect); libraries stay cached. */
function purgeAppModules(appDir: string): void {
  const cache = nativeModule()._cache;
  const prefix = appDir.endsWith(sep) ? appDir : appDir + sep;
  for (const key of Object.keys(cache)) {
    if (key.startsWith(prefix) && !key.slice(prefix.length).split(sep).includes('node_modules')) {
      delete cache[key];
    }
  }
}

let typeScriptRegistered = false;

function registerTypeScript(): void {
  if (typeScriptRegistered) return;
  const extensions = nativeModule()._extensions;
  if (extensions['.ts'] !== undefined) {
    typeScriptRegistered = true;
    return;
  }
  // typescript is a devDependency: needed only to host an app from its TypeScript sources.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ts = require('typescript') as typeof import('typescript');
  extensions['.ts'] = (module, filename) => {
    const source = readFileSync(filename, 'utf8');
    const output = ts.transpileModule(source, {
      fileName: filename,
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
        sourceMap: false,
        inlineSourceMap: true,
      },
    });
    module._compile(output.outputText, filename);
  };
  typeScriptRegistered = true;
}
