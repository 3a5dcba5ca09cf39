/**
 * Path routing of the Durable HTTP API, pure. Both prefixes carry the same routes, as in the
 * extension: the public webhook `/runtime/webhooks/durabletask/` and the RPC base `/durabletask/`.
 * Literal segments match case-insensitively; parameters are percent-decoded.
 *
 *   orchestrators/{functionName}[/{instanceId}]
 *   instances[/]                                   (query, purge by filter)
 *   instances/{instanceId}                         (status, purge)
 *   instances/{instanceId}/{terminate|suspend|resume|rewind|restart}
 *   instances/{instanceId}/raiseEvent/{eventName}
 *   entities/...                                   (not supported)
 */
import { InvalidRequestError } from './errors';
import { RPC_PATH, WEBHOOK_PATH } from './management-urls';

export type InstanceOperation = 'terminate' | 'suspend' | 'resume' | 'rewind' | 'restart';

export type Route =
  | { readonly kind: 'start'; readonly functionName: string; readonly instanceId?: string }
  | { readonly kind: 'instances' }
  | { readonly kind: 'instance'; readonly instanceId: string }
  | { readonly kind: 'operation'; readonly instanceId: string; readonly operation: InstanceOperation }
  | { readonly kind: 'raiseEvent'; readonly instanceId: string; readonly eventName: string }
  | { readonly kind: 'entities' }
  | { readonly kind: 'unknown' };

const PREFIXES = [WEBHOOK_PATH, RPC_PATH].map((prefix) => prefix.toLowerCase());
const OPERATIONS: readonly InstanceOperation[] = ['terminate', 'suspend', 'resume', 'rewind', 'restart'];

/** The route for a request path, or undefined when the path is not under a Durable HTTP API prefix. */
export function matchRoute(pathname: string): Route | undefined {
  const lower = pathname.toLowerCase();
  const prefix = PREFIXES.find((p) => lower === p || lower.startsWith(`${p}/`));
  if (prefix === undefined) return undefined;
  const segments = pathname
    .slice(prefix.length)
    .split('/')
    .filter((segment) => segment !== '')
    .map(decodeSegment);
  return routeOf(segments);
}

function routeOf(segments: readonly string[]): Route {
  const [controller, first, second, third, ...rest] = segments;
  if (rest.length > 0 || controller === undefined) return { kind: 'unknown' };
  switch (controller.toLowerCase()) {
    case 'orchestrators':
      if (first === undefined || third !== undefined) return { kind: 'unknown' };
      return second === undefined
        ? { kind: 'start', functionName: first }
        : { kind: 'start', functionName: first, instanceId: second };
    case 'instances': {
      if (first === undefined) return { kind: 'instances' };
      if (second === undefined) return { kind: 'instance', instanceId: first };
      const operation = second.toLowerCase();
      if (operation === 'raiseevent') {
        return third === undefined
          ? { kind: 'unknown' }
          : { kind: 'raiseEvent', instanceId: first, eventName: third };
      }
      const known = OPERATIONS.find((op) => op === operation);
      return known === undefined || third !== undefined
        ? { kind: 'unknown' }
        : { kind: 'operation', instanceId: first, operation: known };
    }
    case 'entities':
      return { kind: 'entities' };
    default:
      return { kind: 'unknown' };
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch (error) {
    throw new InvalidRequestError(
      `path segment ${JSON.stringify(segment)} is not valid percent-encoding`,
      undefined,
      {
        cause: error,
      },
    );
  }
}
