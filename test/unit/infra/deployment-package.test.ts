/**
 * The deployment package azd uploads (scripts/package-app.ts, `npm run package:azure`, run by
 * azure.yaml's prepackage hook): staged from a small built project made here (its own lockfile and
 * node_modules, in a temporary folder with no node_modules above it), then loaded by a fresh `node`
 * from the package alone, and checked by the real `npm ls`. The repository's own lockfile, azure.yaml,
 * package.json and .funcignore are checked to agree with it.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  PACKAGE_DIR,
  PackageError,
  productionPackages,
  stageDeploymentPackage,
  verifyProductionTree,
} from '../../../scripts/package-app';
import { REPO_ROOT } from './generated-files';

/** Slower than a unit test: the real `npm ls` runs. */
const NPM_TIMEOUT_MS = 60_000;

interface FixturePackage {
  readonly version: string;
  readonly dependencies?: Readonly<Record<string, string>>;
  readonly optionalDependencies?: Readonly<Record<string, string>>;
  readonly dev?: true;
  readonly optional?: true;
  /** Left out of node_modules (an optional package for another platform). */
  readonly absent?: true;
}

/**
 * A built app depending on `prod-a` (which depends on `shared-c` and, nested, `nested-d`, and
 * optionally on `other-os-e`, not installed here) with a devDependency `dev-b` that brings its own
 * `shared-c` 2.0.0.
 */
const PACKAGES: Readonly<Record<string, FixturePackage>> = {
  'node_modules/prod-a': {
    version: '1.0.0',
    dependencies: { 'shared-c': '^1.0.0', 'nested-d': '1.0.0' },
    optionalDependencies: { 'other-os-e': '1.0.0' },
  },
  'node_modules/prod-a/node_modules/nested-d': { version: '1.0.0' },
  'node_modules/shared-c': { version: '1.0.0' },
  'node_modules/other-os-e': { version: '1.0.0', optional: true, absent: true },
  'node_modules/dev-b': { version: '1.0.0', dependencies: { 'shared-c': '2.0.0' }, dev: true },
  'node_modules/dev-b/node_modules/shared-c': { version: '2.0.0', dev: true },
};

const roots: string[] = [];

afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function write(path: string, content: string | object): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, typeof content === 'string' ? content : `${JSON.stringify(content, null, 2)}\n`);
}

function packageName(path: string): string {
  return path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length);
}

/** A built project in a fresh temporary folder; returns its root. */
function fixtureProject(options: { built?: boolean } = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'lucius-package-'));
  roots.push(root);
  const manifest = {
    name: 'fixture-app',
    version: '1.0.0',
    main: 'dist/src/index.js',
    dependencies: { 'prod-a': '1.0.0' },
    devDependencies: { 'dev-b': '1.0.0' },
  };
  write(join(root, 'package.json'), manifest);
  write(join(root, 'package-lock.json'), {
    name: manifest.name,
    version: manifest.version,
    lockfileVersion: 3,
    requires: true,
    packages: {
      '': {
        name: manifest.name,
        version: manifest.version,
        dependencies: manifest.dependencies,
        devDependencies: manifest.devDependencies,
      },
      ...Object.fromEntries(
        Object.entries(PACKAGES).map(([path, p]) => [
          path,
          {
            version: p.version,
            ...(p.dependencies === undefined ? {} : { dependencies: p.dependencies }),
            ...(p.optionalDependencies === undefined ? {} : { optionalDependencies: p.optionalDependencies }),
            ...(p.dev === undefined ? {} : { dev: true }),
            ...(p.optional === undefined ? {} : { optional: true }),
          },
        ]),
      ),
    },
  });
  for (const [path, p] of Object.entries(PACKAGES)) {
    if (p.absent === true) continue;
    const name = packageName(path);
    write(join(root, path, 'package.json'), {
      name,
      version: p.version,
      main: 'index.js',
      ...(p.dependencies === undefined ? {} : { dependencies: p.dependencies }),
      ...(p.optionalDependencies === undefined ? {} : { optionalDependencies: p.optionalDependencies }),
    });
    const requires = Object.keys(p.dependencies ?? {})
      .map((dependency) => `  ${JSON.stringify(dependency)}: require(${JSON.stringify(dependency)}),\n`)
      .join('');
    write(
      join(root, path, 'index.js'),
      `module.exports = {\n  id: ${JSON.stringify(`${name}@${p.version}`)},\n${requires}};\n`,
    );
  }
  write(join(root, 'host.json'), { version: '2.0' });
  write(join(root, 'schemas', 'command-envelope.v1.json'), { $id: 'fixture' });
  if (options.built ?? true) {
    write(
      join(root, 'dist', 'src', 'index.js'),
      "const a = require('prod-a');\nprocess.stdout.write([a.id, a['shared-c'].id, a['nested-d'].id].join(' '));\n",
    );
    write(join(root, 'dist', 'src', 'index.js.map'), '{}');
    write(join(root, 'dist', '.tsbuildinfo'), '{}');
    write(join(root, 'dist', 'devhost', 'cli.js'), "require('dev-b');\n");
  }
  return root;
}

function listed(dir: string, sub = ''): string[] {
  return readdirSync(join(dir, sub), { withFileTypes: true }).flatMap((entry) => {
    const path = sub === '' ? entry.name : `${sub}/${entry.name}`;
    return entry.isDirectory() ? listed(dir, path) : [path];
  });
}

describe('stageDeploymentPackage', () => {
  it(
    'stages host.json, the compiled app, schemas and the production dependencies only',
    () => {
      const root = fixtureProject();
      const staged = stageDeploymentPackage(root);
      expect(staged.dir).toBe(join(root, PACKAGE_DIR));
      expect(staged.packages).toEqual([
        'node_modules/prod-a',
        'node_modules/prod-a/node_modules/nested-d',
        'node_modules/shared-c',
      ]);
      expect(staged.skipped).toEqual(['node_modules/other-os-e']);
      expect(listed(staged.dir).sort()).toEqual([
        'dist/src/index.js',
        'dist/src/index.js.map',
        'host.json',
        'node_modules/prod-a/index.js',
        'node_modules/prod-a/node_modules/nested-d/index.js',
        'node_modules/prod-a/node_modules/nested-d/package.json',
        'node_modules/prod-a/package.json',
        'node_modules/shared-c/index.js',
        'node_modules/shared-c/package.json',
        'package-lock.json',
        'package.json',
        'schemas/command-envelope.v1.json',
      ]);
    },
    NPM_TIMEOUT_MS,
  );

  it(
    'makes a package the app runs from alone, with the versions the lockfile names',
    () => {
      const staged = stageDeploymentPackage(fixtureProject());
      const run = spawnSync(process.execPath, ['-e', "require('./dist/src/index.js')"], {
        cwd: staged.dir,
        encoding: 'utf8',
      });
      expect(run.stderr).toBe('');
      expect(run.stdout).toBe('prod-a@1.0.0 shared-c@1.0.0 nested-d@1.0.0');
    },
    NPM_TIMEOUT_MS,
  );

  it('replaces what a previous run staged', () => {
    const root = fixtureProject();
    write(join(root, PACKAGE_DIR, 'node_modules', 'dev-b', 'index.js'), '');
    stageDeploymentPackage(root, { verify: false });
    expect(existsSync(join(root, PACKAGE_DIR, 'node_modules', 'dev-b'))).toBe(false);
  });

  it('asks for a build when the compiled app is missing', () => {
    expect(() => stageDeploymentPackage(fixtureProject({ built: false }))).toThrow(
      new PackageError('dist/src/index.js does not exist: run npm run build first'),
    );
  });

  it('asks for npm ci when a production package is not installed', () => {
    const root = fixtureProject();
    rmSync(join(root, 'node_modules', 'shared-c'), { recursive: true });
    expect(() => stageDeploymentPackage(root)).toThrow(
      new PackageError('node_modules/shared-c is not installed: run npm ci (or npm install) first'),
    );
  });

  it(
    'has npm ls reject a production tree with a package missing',
    () => {
      const staged = stageDeploymentPackage(fixtureProject());
      rmSync(join(staged.dir, 'node_modules', 'prod-a', 'node_modules', 'nested-d'), { recursive: true });
      expect(() => verifyProductionTree(staged.dir)).toThrow(/incomplete production tree[\s\S]*nested-d/);
    },
    NPM_TIMEOUT_MS,
  );
});

describe("the repository's deployment package", () => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
    readonly main: string;
    readonly scripts: Readonly<Record<string, string>>;
    readonly dependencies: Readonly<Record<string, string>>;
  };
  const lockfile = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as object;

  it('holds every dependency and none of the development tools', () => {
    const names = new Set(productionPackages(lockfile).map((p) => packageName(p.path)));
    expect(Object.keys(manifest.dependencies).filter((name) => !names.has(name))).toEqual([]);
    const tools = ['azurite', 'jest', 'ts-jest', 'typescript', 'eslint', 'prettier', 'fast-check'];
    expect(tools.filter((name) => names.has(name))).toEqual([]);
  });

  it('is what azd uploads: azure.yaml stages it before packaging and points azd at it', () => {
    const azureYaml = readFileSync(join(REPO_ROOT, 'azure.yaml'), 'utf8');
    expect(azureYaml).toMatch(new RegExp(`^ {4}dist: ${PACKAGE_DIR}$`, 'm'));
    expect(azureYaml).toMatch(/^ {4}remoteBuild: false$/m);
    expect(azureYaml).toMatch(/^ {4}hooks:\n {6}prepackage:\n/m);
    expect(azureYaml.match(/^ {10}run: npm run package:azure$/gm)).toHaveLength(2);
    expect(manifest.scripts['package:azure']).toBe('npm run build && node dist/scripts/package-app.js');
    expect(manifest.main).toBe('dist/src/index.js');
  });

  it('keeps .funcignore consistent: node_modules not excluded (remoteBuild: false), the staged folder excluded', () => {
    const patterns = readFileSync(join(REPO_ROOT, '.funcignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(patterns.filter((pattern) => /^\/?node_modules\/?$|^\*\*\/node_modules/.test(pattern))).toEqual(
      [],
    );
    expect(patterns).toContain(PACKAGE_DIR);
    expect(patterns.indexOf(PACKAGE_DIR)).toBeGreaterThan(patterns.indexOf('!dist/**'));
  });
});
