/**
 * Reading the bicep as text, for the infra tests (no bicep compiler runs here): a repository file,
 * the delimited app settings object of infra/app/api.bicep, a resource's block, a file's outputs
 * and its `@secure()` parameters.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './generated-files';

const BEGIN = '// <lucius-app-settings>';
const END = '// </lucius-app-settings>';

export function readRepoFile(path: string): string {
  return readFileSync(join(REPO_ROOT, path), 'utf8');
}

/** `NAME: value` lines of api.bicep's delimited `luciusAppSettings` object, with their value expressions. */
export function infraAppSettings(): Map<string, string> {
  const bicep = readRepoFile('infra/app/api.bicep');
  const start = bicep.indexOf(BEGIN);
  const end = bicep.indexOf(END);
  if (start < 0 || end < start) throw new Error(`infra/app/api.bicep has no ${BEGIN} ... ${END} block`);
  const block = bicep.slice(start, end);
  const open = block.indexOf('var luciusAppSettings = {');
  const close = block.lastIndexOf('}');
  if (open < 0 || close < open)
    throw new Error('the app settings block holds no `var luciusAppSettings = { ... }`');
  const settings = new Map<string, string>();
  for (const line of block.slice(open, close).split('\n').slice(1)) {
    const match = /^ {2}([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.+)$/.exec(line);
    if (match !== null) settings.set(match[1]!, match[2]!.trim());
  }
  return settings;
}

export interface BicepBlock {
  /** The decorator lines just above the declaration (`@onlyIfNotExists()`, ...). */
  readonly decorators: readonly string[];
  /** The declaration line, e.g. `resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {`. */
  readonly header: string;
  /** Everything between the declaration line and its closing `}` at column 0. */
  readonly body: string;
}

/** The top-level `resource` or `module` declared under `symbol`; throws when there is none. */
export function declaration(bicep: string, symbol: string): BicepBlock {
  const lines = bicep.split('\n');
  const index = lines.findIndex((line) => new RegExp(`^(resource|module) ${symbol} `).test(line));
  if (index < 0) throw new Error(`no resource or module named ${symbol}`);
  const decorators: string[] = [];
  for (let i = index - 1; i >= 0 && lines[i]!.startsWith('@'); i--) decorators.unshift(lines[i]!);
  const close = lines.findIndex((line, i) => i > index && line === '}');
  return {
    decorators,
    header: lines[index]!,
    body: lines.slice(index + 1, close < 0 ? undefined : close).join('\n'),
  };
}

/** `output <name> <type> = <expression>` lines of a bicep file. */
export function outputs(bicep: string): { name: string; expression: string }[] {
  return [...bicep.matchAll(/^output (\w+) \w+ = (.+)$/gm)].map((m) => ({
    name: m[1]!,
    expression: m[2]!.trim(),
  }));
}

/** The names of the parameters decorated `@secure()` (the decorator anywhere in the lines above). */
export function secureParameters(bicep: string): string[] {
  const names: string[] = [];
  const lines = bicep.split('\n');
  lines.forEach((line, index) => {
    const param = /^param (\w+) /.exec(line);
    if (param === null) return;
    for (let i = index - 1; i >= 0 && lines[i]!.startsWith('@'); i--)
      if (lines[i]!.startsWith('@secure()')) names.push(param[1]!);
  });
  return names;
}

/** A property `name: value` on its own line within a block body (the first one). */
export function property(body: string, name: string): string | undefined {
  return new RegExp(`^\\s+${name}: (.+)$`, 'm').exec(body)?.[1]?.trim();
}
