/** Errors of the configuration layer. */
import { LuciusError } from '../domain/errors';

export interface SettingProblem {
  readonly variable: string;
  readonly message: string;
}

/** One or more settings are missing or invalid; start-up stops with every offending variable named. */
export class SettingsError extends LuciusError {
  constructor(readonly problems: readonly SettingProblem[]) {
    super(
      'invalid_settings',
      `Invalid settings (${problems.length}): ${problems.map((p) => `${p.variable}: ${p.message}`).join('; ')}`,
      { fault: 'system', details: { variables: problems.map((p) => p.variable) } },
    );
  }
}
