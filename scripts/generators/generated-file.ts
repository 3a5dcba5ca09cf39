/**
 * What every generator of a deployment file shares (`npm run generate`, scripts/generate.ts):
 * a file is its path under the repository root and a function that renders its text; tests render
 * the same text in memory and fail when the committed file differs.
 *
 * `jsonFileContent` writes JSON exactly as the repository's Prettier settings (print width 110,
 * two-space indent) format it, so a generated file passes `npm run format:check` without running
 * Prettier (whose API is asynchronous): objects are expanded one property per line; an array stays on
 * one line when it fits and holds no object, else one element per line.
 */

export interface GeneratedFile {
  /** Relative to the repository root, with `/` separators, e.g. `infra/generated/app-settings.json`. */
  readonly path: string;
  /** The file's text, as committed. */
  readonly generate: () => string;
}

const PRINT_WIDTH = 110;
const INDENT = '  ';

/** `value` as a JSON file formatted as Prettier formats it, ending with a newline. */
export function jsonFileContent(value: unknown): string {
  return `${printValue(value, '', '', '')}\n`;
}

/**
 * `seconds` as the shortest ISO 8601 duration in one unit (`P14D`, `PT2H`, `PT10M`, `PT90S`), the
 * form ARM takes for Service Bus durations. Throws a RangeError unless it is a positive whole number.
 */
export function isoDuration(seconds: number): string {
  if (!Number.isInteger(seconds) || seconds <= 0)
    throw new RangeError(`a duration must be a positive whole number of seconds (got ${seconds})`);
  if (seconds % 86_400 === 0) return `P${seconds / 86_400}D`;
  if (seconds % 3600 === 0) return `PT${seconds / 3600}H`;
  if (seconds % 60 === 0) return `PT${seconds / 60}M`;
  return `PT${seconds}S`;
}

/** Prints `value` at `indent`, on a line that starts with `prefix` and ends with `suffix`. */
function printValue(value: unknown, indent: string, prefix: string, suffix: string): string {
  if (Array.isArray(value)) return printArray(value, indent, prefix, suffix);
  if (isObject(value)) return printObject(value, indent);
  return JSON.stringify(value ?? null);
}

function printObject(value: Record<string, unknown>, indent: string): string {
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const inner = indent + INDENT;
  const lines = entries.map(([key, v], index) => {
    const prefix = `${JSON.stringify(key)}: `;
    const suffix = index < entries.length - 1 ? ',' : '';
    return `${inner}${prefix}${printValue(v, inner, prefix, suffix)}${suffix}`;
  });
  return `{\n${lines.join('\n')}\n${indent}}`;
}

function printArray(value: readonly unknown[], indent: string, prefix: string, suffix: string): string {
  const items = value.map((v) => (v === undefined ? null : v));
  if (items.length === 0) return '[]';
  const flat = flatArray(items);
  if (flat !== undefined && !breaksByShape(items)) {
    if (indent.length + prefix.length + flat.length + suffix.length <= PRINT_WIDTH) return flat;
  }
  const inner = indent + INDENT;
  const lines = items.map((v, index) => {
    const itemSuffix = index < items.length - 1 ? ',' : '';
    return `${inner}${printValue(v, inner, '', itemSuffix)}${itemSuffix}`;
  });
  return `[\n${lines.join('\n')}\n${indent}]`;
}

/** The array on one line, or undefined when it holds an object (objects are always expanded). */
function flatArray(items: readonly unknown[]): string | undefined {
  const parts: string[] = [];
  for (const item of items) {
    if (Array.isArray(item)) {
      if (item.length === 0) parts.push('[]');
      else {
        const inner = breaksByShape(item) ? undefined : flatArray(item);
        if (inner === undefined) return undefined;
        parts.push(inner);
      }
    } else if (isObject(item)) {
      if (Object.values(item).some((v) => v !== undefined)) return undefined;
      parts.push('{}');
    } else parts.push(JSON.stringify(item));
  }
  return `[${parts.join(', ')}]`;
}

/** Prettier breaks an array of two or more arrays (or objects) that each hold more than one entry. */
function breaksByShape(items: readonly unknown[]): boolean {
  if (items.length < 2) return false;
  const allArrays = items.every((item) => Array.isArray(item) && item.length > 1);
  const allObjects = items.every((item) => isObject(item) && Object.keys(item).length > 1);
  return allArrays || allObjects;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
