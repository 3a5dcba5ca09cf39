/**
 * Route templates as the Functions host reads them (ASP.NET Core route template syntax): literal
 * segments (matched case-insensitively), `{name}`, optional trailing `{name?}`, defaults
 * `{name=value}`, catch-alls `{*rest}` / `{**rest}`, and inline constraints `{id:int}`,
 * `{id:guid}`, `{n:min(1)}`, `{s:regex(^a+$)}`, ... (several may be chained: `{n:int:min(1)}`).
 *
 * `compileRoute` throws a RouteTemplateError for a template it cannot read; `match` returns the
 * decoded parameter values or undefined. `compareRoutes` orders templates as ASP.NET's precedence
 * does (literals before parameters, constrained before unconstrained, catch-alls last), so
 * `v1/jobs/stats` wins over `v1/jobs/{id}` whatever the registration order.
 */
import { DevhostBaseError } from '../common/errors';
import type { CompiledRoute } from '../common/functions';

/** A function's route template Azure would refuse: the app's fault. */
export class RouteTemplateError extends DevhostBaseError<'invalid_route_template'> {
  readonly fault = 'caller';

  constructor(
    readonly template: string,
    reason: string,
  ) {
    super('invalid_route_template', `route template "${template}": ${reason}`);
  }
}

type Constraint = (value: string) => boolean;

interface Parameter {
  readonly name: string;
  readonly optional: boolean;
  readonly catchAll: boolean;
  readonly defaultValue?: string;
  readonly constraints: readonly Constraint[];
}

const INT = /^-?\d+$/;
const NUMBER = /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/;

function constraint(spec: string, template: string): Constraint {
  const call = /^([a-z]+)(?:\((.*)\))?$/is.exec(spec);
  if (call === null) throw new RouteTemplateError(template, `unreadable constraint "${spec}"`);
  const name = (call[1] as string).toLowerCase();
  const arg = call[2];
  const args = arg === undefined ? [] : arg.split(',').map((a) => a.trim());
  const num = (index: number): number => {
    const value = Number(args[index]);
    if (!Number.isFinite(value))
      throw new RouteTemplateError(template, `constraint "${spec}" needs a number`);
    return value;
  };
  switch (name) {
    case 'int':
      return (v) => INT.test(v) && Math.abs(Number(v)) <= 2 ** 31;
    case 'long':
      return (v) => INT.test(v);
    case 'bool':
      return (v) => /^(true|false)$/i.test(v);
    case 'guid':
      return (v) => guid(v);
    case 'decimal':
    case 'double':
    case 'float':
      return (v) => NUMBER.test(v);
    case 'datetime':
      return (v) => !Number.isNaN(Date.parse(v));
    case 'alpha':
      return (v) => /^[a-z]+$/i.test(v);
    case 'min': {
      const min = num(0);
      return (v) => INT.test(v) && Number(v) >= min;
    }
    case 'max': {
      const max = num(0);
      return (v) => INT.test(v) && Number(v) <= max;
    }
    case 'range': {
      const [min, max] = [num(0), num(1)];
      return (v) => INT.test(v) && Number(v) >= min && Number(v) <= max;
    }
    case 'minlength': {
      const min = num(0);
      return (v) => v.length >= min;
    }
    case 'maxlength': {
      const max = num(0);
      return (v) => v.length <= max;
    }
    case 'length': {
      const [min, max] = args.length > 1 ? [num(0), num(1)] : [num(0), num(0)];
      return (v) => v.length >= min && v.length <= max;
    }
    case 'regex': {
      if (arg === undefined) throw new RouteTemplateError(template, 'regex constraint needs a pattern');
      const pattern = new RegExp(arg, 'i');
      return (v) => pattern.test(v);
    }
    default:
      throw new RouteTemplateError(template, `unknown constraint "${name}"`);
  }
}

function guid(value: string): boolean {
  const braced = value.startsWith('{') && value.endsWith('}');
  const inner = braced ? value.slice(1, -1) : value;
  return /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(inner);
}

function parseParameter(body: string, template: string): Parameter {
  let rest = body;
  let catchAll = false;
  if (rest.startsWith('**')) [rest, catchAll] = [rest.slice(2), true];
  else if (rest.startsWith('*')) [rest, catchAll] = [rest.slice(1), true];
  let defaultValue: string | undefined;
  const eq = rest.indexOf('=');
  if (eq >= 0) [rest, defaultValue] = [rest.slice(0, eq), rest.slice(eq + 1)];
  let optional = false;
  if (rest.endsWith('?')) [rest, optional] = [rest.slice(0, -1), true];
  // Constraints are separated by ':' but a regex(...) argument may contain ':'.
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of rest) {
    if (char === '(') depth += 1;
    if (char === ')') depth -= 1;
    if (char === ':' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  const name = (parts[0] ?? '').trim();
  if (!/^[A-Za-z_][\w]*$/.test(name)) throw new RouteTemplateError(template, `bad parameter name "${name}"`);
  return {
    name,
    optional: optional || catchAll || defaultValue !== undefined,
    catchAll,
    ...(defaultValue === undefined ? {} : { defaultValue }),
    constraints: parts.slice(1).map((spec) => constraint(spec, template)),
  };
}

export function compileRoute(templateInput: string): CompiledRoute {
  const template = templateInput.replace(/^[~/]+|\/+$/g, '');
  const segments = template === '' ? [] : template.split('/');
  const parameters: Parameter[] = [];
  const precedence: number[] = [];
  let source = '^';
  segments.forEach((segment, index) => {
    if (segment === '') throw new RouteTemplateError(templateInput, 'empty segment');
    const pieces = segment.split(/(\{[^}]*\})/).filter((piece) => piece !== '');
    const params = pieces.filter((piece) => piece.startsWith('{'));
    const last = index === segments.length - 1;
    if (params.length === 1 && pieces.length === 1) {
      const parameter = parseParameter((params[0] as string).slice(1, -1), templateInput);
      if (parameter.catchAll && !last)
        throw new RouteTemplateError(templateInput, 'a catch-all must be last');
      if (parameter.optional && !last) {
        throw new RouteTemplateError(templateInput, 'only the last segment may be optional');
      }
      parameters.push(parameter);
      const capture = parameter.catchAll ? '(.*)' : '([^/]+)';
      source += parameter.optional ? `(?:/${capture})?` : `/${capture}`;
      precedence.push(
        parameter.catchAll ? 5 : parameter.optional ? 4 : parameter.constraints.length > 0 ? 2 : 3,
      );
      return;
    }
    source += '/';
    for (const piece of pieces) {
      if (!piece.startsWith('{')) {
        source += escapeRegExp(piece);
        continue;
      }
      const parameter = parseParameter(piece.slice(1, -1), templateInput);
      if (parameter.catchAll || parameter.optional) {
        throw new RouteTemplateError(
          templateInput,
          'catch-all and optional parameters need a segment of their own',
        );
      }
      parameters.push(parameter);
      source += '([^/]+?)';
    }
    precedence.push(params.length === 0 ? 1 : 2);
  });
  const regex = new RegExp(`${source}/?$`, 'i');
  return {
    template,
    precedence,
    match(path: string) {
      const found = regex.exec(path.startsWith('/') || path === '' ? path : `/${path}`);
      if (found === null) return undefined;
      const values: Record<string, string> = {};
      for (let i = 0; i < parameters.length; i += 1) {
        const parameter = parameters[i] as Parameter;
        const raw = found[i + 1];
        if (raw === undefined || raw === '') {
          if (parameter.defaultValue !== undefined) values[parameter.name] = parameter.defaultValue;
          continue;
        }
        let value: string;
        try {
          value = parameter.catchAll
            ? raw.split('/').map(decodeURIComponent).join('/')
            : decodeURIComponent(raw);
        } catch {
          return undefined;
        }
        if (!parameter.constraints.every((check) => check(value))) return undefined;
        values[parameter.name] = value;
      }
      return values;
    },
  };
}

/** Negative when `a` should be tried before `b`. */
export function compareRoutes(a: CompiledRoute, b: CompiledRoute): number {
  const length = Math.max(a.precedence.length, b.precedence.length);
  for (let i = 0; i < length; i += 1) {
    const left = a.precedence[i] ?? 0;
    const right = b.precedence[i] ?? 0;
    if (left !== right) return left - right;
  }
  return 0;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
