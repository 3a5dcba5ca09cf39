/**
 * `npm run package:azure`: the function app's deployment package, staged in `dist/azure-functions/`
 * for `azd deploy` (azure.yaml: the `prepackage` hook runs this; `dist:` points azd at the folder)
 * or for `func azure functionapp publish` run from that folder.
 *
 * The package holds what the Functions host loads and nothing else:
 *
 *   host.json, package.json (its `main` is dist/src/index.js), package-lock.json
 *   dist/src/        the compiled app (`npm run build`; the build also compiles devhost/, launcher/,
 *                    workers/, bench/ and scripts/, which stay out)
 *   schemas/         read at run time (the contracts and the protocol registry)
 *   node_modules/    the production dependencies only: every package the lockfile does not mark
 *                    `dev` (npm's own mark for what only devDependencies need), copied from the
 *                    project's node_modules, so the deployment runs exactly the versions the tests ran
 *
 * The copy is checked with `npm ls --omit=dev --all` in the package (npm itself confirms the
 * production tree is complete and matches the lockfile). The build is local (azure.yaml
 * `remoteBuild: false`): nothing is installed or compiled on Azure, and the upload carries no
 * devDependencies (azurite, jest, typescript, ...).
 *
 * Errors (PackageError) say what to run: `npm run build` when dist/src is missing, `npm ci` when a
 * production package is missing from node_modules.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join, relative } from 'node:path';

/** Where the package is staged, relative to the project root. */
export const PACKAGE_DIR = 'dist/azure-functions';

/** Files and folders copied from the project root as they are. */
export const PACKAGE_CONTENTS = ['host.json', 'package.json', 'package-lock.json', 'schemas'] as const;

/** The compiled app, relative to the project root. */
export const APP_DIR = 'dist/src';

export class PackageError extends Error {
  readonly code = 'package_failed';
  constructor(message: string) {
    super(message);
    this.name = 'PackageError';
  }
}

interface LockedPackage {
  readonly dev?: boolean;
  readonly devOptional?: boolean;
  readonly optional?: boolean;
  readonly link?: boolean;
}

interface Lockfile {
  readonly lockfileVersion?: number;
  readonly packages?: Readonly<Record<string, LockedPackage>>;
}

export interface ProductionPackage {
  /** As the lockfile names it: `node_modules/a`, `node_modules/a/node_modules/b`. */
  readonly path: string;
  readonly optional: boolean;
}

/**
 * The packages a production install has, from a lockfile (version 2 or 3): every installed package
 * not marked `dev` or `devOptional`.
 */
export function productionPackages(lockfile: Lockfile): ProductionPackage[] {
  if (lockfile.packages === undefined || (lockfile.lockfileVersion ?? 1) < 2)
    throw new PackageError(
      'package-lock.json must be lockfileVersion 2 or 3 (npm 7 or later): run npm install',
    );
  return Object.entries(lockfile.packages)
    .filter(
      ([path, entry]) => path.startsWith('node_modules/') && entry.dev !== true && entry.devOptional !== true,
    )
    .map(([path, entry]) => {
      if (entry.link === true)
        throw new PackageError(`${path} is a linked package (a workspace): the package cannot hold it`);
      return { path, optional: entry.optional === true };
    });
}

export interface StagedPackage {
  readonly dir: string;
  /** The production packages copied, as the lockfile names them. */
  readonly packages: readonly string[];
  /** Optional production packages not installed on this platform, left out as npm leaves them out. */
  readonly skipped: readonly string[];
}

export interface StageOptions {
  /** Where to stage; `{root}/dist/azure-functions` by default. */
  readonly dir?: string;
  /** Runs `npm ls --omit=dev --all` in the package (default true). */
  readonly verify?: boolean;
}

/** Stages the deployment package of the project at `root` (built: dist/src exists). */
export function stageDeploymentPackage(root: string, options: StageOptions = {}): StagedPackage {
  const dir = options.dir ?? join(root, PACKAGE_DIR);
  const main = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { main?: string }).main;
  if (main === undefined || !existsSync(join(root, main)))
    throw new PackageError(`${main ?? 'package.json main'} does not exist: run npm run build first`);
  const lockfile = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as Lockfile;
  const production = productionPackages(lockfile);

  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const entry of PACKAGE_CONTENTS) cpSync(join(root, entry), join(dir, entry), { recursive: true });
  cpSync(join(root, APP_DIR), join(dir, APP_DIR), {
    recursive: true,
    filter: (source) => !source.endsWith('.tsbuildinfo'),
  });

  const copied: string[] = [];
  const skipped: string[] = [];
  for (const { path, optional } of production) {
    const source = join(root, ...path.split('/'));
    if (!existsSync(source)) {
      if (optional) {
        skipped.push(path);
        continue;
      }
      throw new PackageError(`${path} is not installed: run npm ci (or npm install) first`);
    }
    // Nested node_modules hold packages of their own lockfile entries, copied (or not) as those say.
    cpSync(source, join(dir, ...path.split('/')), {
      recursive: true,
      verbatimSymlinks: true,
      filter: (file) => !isNestedModules(source, file),
    });
    copied.push(path);
  }
  if (options.verify ?? true) verifyProductionTree(dir);
  return { dir, packages: copied, skipped };
}

/** True for `{packageDir}/node_modules` itself (its packages are entries of their own). */
function isNestedModules(packageDir: string, file: string): boolean {
  return relative(packageDir, file) === 'node_modules';
}

/** `npm ls --omit=dev --all` in the package: npm confirms the production tree is complete. */
export function verifyProductionTree(dir: string): void {
  const npm = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], {
    cwd: dir,
    encoding: 'utf8',
    shell: process.platform === 'win32',
  });
  if (npm.error !== undefined) throw new PackageError(`could not run npm ls: ${npm.error.message}`);
  if (npm.status !== 0)
    throw new PackageError(
      `npm ls --omit=dev in ${dir} found an incomplete production tree:\n${npm.stderr.trim() || npm.stdout.trim()}`,
    );
}

if (require.main === module) {
  const root = join(__dirname, '..', '..');
  try {
    const staged = stageDeploymentPackage(root);
    process.stdout.write(
      `staged ${relative(root, staged.dir) || basename(staged.dir)}: host.json, ${APP_DIR}, schemas, ${staged.packages.length} production packages${
        staged.skipped.length === 0 ? '' : ` (${staged.skipped.length} optional ones not installed here)`
      }\n`,
    );
  } catch (error) {
    process.stderr.write(`package failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
