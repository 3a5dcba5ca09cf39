/**
 * Orchestration versioning, as the Durable extension does it (host.json `extensions.durableTask`):
 * every new orchestration, and every sub-orchestration started without a version of its own, gets
 * `defaultVersion`; the version is fixed at creation (ExecutionStarted's `Version`, the SDK's
 * `context.df.version`). Before an orchestrator runs, its instance's version is matched against
 * `defaultVersion` (the version this host runs):
 *  - `None`: any version runs;
 *  - `Strict`: only the same version runs;
 *  - `CurrentOrOlder` (the default): the same or an older version runs.
 * A mismatch is handled by `versionFailureStrategy`: `Reject` (the default) leaves the work where it
 * is, for a host with a compatible version; `Fail` fails the orchestration with the mismatch.
 * Without a `defaultVersion` nothing is checked.
 *
 * Versions compare as the Durable Task Framework compares them: two empty versions are equal, an
 * empty version is older than any other, two versions that both read as .NET `System.Version`
 * (2 to 4 dot-separated numbers) compare number by number, anything else compares as text, ignoring
 * case (so "10" is older than "9", but "1.10" is newer than "1.9").
 */

export const VERSION_MATCH_STRATEGIES = ['None', 'Strict', 'CurrentOrOlder'] as const;
export type VersionMatchStrategy = (typeof VERSION_MATCH_STRATEGIES)[number];

export const VERSION_FAILURE_STRATEGIES = ['Reject', 'Fail'] as const;
export type VersionFailureStrategy = (typeof VERSION_FAILURE_STRATEGIES)[number];

/** The host.json settings, under the same names. */
export interface OrchestrationVersioning {
  readonly defaultVersion?: string;
  /** Default `CurrentOrOlder`. */
  readonly versionMatchStrategy?: VersionMatchStrategy;
  /** Default `Reject`. */
  readonly versionFailureStrategy?: VersionFailureStrategy;
}

/** Why an instance of `version` may not run here, or undefined when it may. */
export function versionMismatch(
  version: string | undefined,
  versioning: OrchestrationVersioning,
): string | undefined {
  const current = versioning.defaultVersion;
  if (current === undefined || current === '') return undefined;
  const shown = version ?? '';
  switch (versioning.versionMatchStrategy ?? 'CurrentOrOlder') {
    case 'None':
      return undefined;
    case 'Strict':
      return compareVersions(version, current) === 0
        ? undefined
        : `The orchestration version '${shown}' does not match the worker version '${current}'.`;
    case 'CurrentOrOlder':
      return compareVersions(version, current) <= 0
        ? undefined
        : `The orchestration version '${shown}' is greater than the worker version '${current}'.`;
  }
}

/** Negative when `a` is older than `b`, 0 when they are the same, positive when `a` is newer. */
export function compareVersions(a: string | undefined, b: string | undefined): number {
  const aEmpty = a === undefined || a.trim() === '';
  const bEmpty = b === undefined || b.trim() === '';
  if (aEmpty || bEmpty) return (aEmpty ? 0 : 1) - (bEmpty ? 0 : 1);
  const aParts = systemVersion(a);
  const bParts = systemVersion(b);
  if (aParts !== undefined && bParts !== undefined) {
    for (let i = 0; i < 4; i += 1) {
      // An absent build or revision number is -1 in System.Version: "1.0" is older than "1.0.0".
      const difference = (aParts[i] ?? -1) - (bParts[i] ?? -1);
      if (difference !== 0) return Math.sign(difference);
    }
    return 0;
  }
  const aText = a.toUpperCase();
  const bText = b.toUpperCase();
  return aText === bText ? 0 : aText < bText ? -1 : 1;
}

const INT32_MAX = 2_147_483_647;

/** The numbers of a version System.Version.TryParse accepts (major.minor[.build[.revision]]). */
function systemVersion(text: string): number[] | undefined {
  const trimmed = text.trim();
  if (!/^\d+(\.\d+){1,3}$/.test(trimmed)) return undefined;
  const parts = trimmed.split('.').map(Number);
  return parts.every((n) => n <= INT32_MAX) ? parts : undefined;
}
