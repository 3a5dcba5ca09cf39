/**
 * Lucius's app roles (as registered on the Entra ID app and carried in a token's `roles` claim) and
 * the role each kind of endpoint needs.
 *
 * | action    | endpoints                                             | role             |
 * |-----------|-------------------------------------------------------|------------------|
 * | `submit`  | POST a command                                        | `Lucius.Submit`  |
 * | `read`    | GET a job, its steps, lists, streams                  | `Lucius.Read`    |
 * | `operate` | cancel, redrive, bulk operations, the reply quarantine | `Lucius.Operate` |
 * | `worker`  | workers' HTTP callbacks (ACK, RESULT, heartbeat)      | `Lucius.Worker`  |
 * | `admin`   | administration (grants, sweeps)                       | `Lucius.Admin`   |
 *
 * `Lucius.Admin` also allows submit, read and operate; it never allows `worker`: a callback speaks
 * for a worker's attempt, and no human role should be able to forge one.
 */

export const ROLES = [
  'Lucius.Submit',
  'Lucius.Read',
  'Lucius.Operate',
  'Lucius.Worker',
  'Lucius.Admin',
] as const;
export type Role = (typeof ROLES)[number];

export const ACTIONS = ['submit', 'read', 'operate', 'worker', 'admin'] as const;
export type Action = (typeof ACTIONS)[number];

export const ROLE_FOR_ACTION: Readonly<Record<Action, Role>> = Object.freeze({
  submit: 'Lucius.Submit',
  read: 'Lucius.Read',
  operate: 'Lucius.Operate',
  worker: 'Lucius.Worker',
  admin: 'Lucius.Admin',
});

const ROLE_SET: ReadonlySet<string> = new Set(ROLES);

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && ROLE_SET.has(value);
}

/** Whether holding `roles` allows `action`. */
export function rolesAllow(roles: readonly Role[], action: Action): boolean {
  if (roles.includes(ROLE_FOR_ACTION[action])) return true;
  return action !== 'worker' && roles.includes('Lucius.Admin');
}

/** Parses a comma-separated role list (`Lucius.Submit,Lucius.Read`); throws naming the unknown ones. */
export function parseRoles(text: string): Role[] {
  const names = text
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  const unknown = names.filter((name) => !isRole(name));
  if (unknown.length > 0)
    throw new RangeError(`unknown role(s) ${unknown.join(', ')}: the roles are ${ROLES.join(', ')}`);
  return [...new Set(names as Role[])];
}
