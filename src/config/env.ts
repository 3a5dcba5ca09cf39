/**
 * What every settings parser shares: the environment as a read-only record (never process.env
 * itself, so parsing stays pure), and how a variable counts as set.
 */
export type Env = Readonly<Record<string, string | undefined>>;

/** A variable's trimmed value; unset, empty and blank are all "not set". */
export const present = (value: string | undefined): string | undefined =>
  value === undefined || value.trim() === '' ? undefined : value.trim();
