/**
 * Errors devhost reports while loading and hosting a function app. Each has a stable `code`; all of
 * them are the app's or the operator's fault (a bad app, a bad setting, a port in use), never a
 * devhost crash, so the CLI prints the message and exits instead of showing a stack.
 */
import { DevhostBaseError } from '../common/errors';

export type DevhostErrorCode =
  | 'app_not_found'
  | 'entry_not_found'
  | 'app_load_failed'
  | 'duplicate_function'
  | 'unsupported_trigger'
  | 'invalid_function'
  | 'invalid_schedule'
  | 'invalid_host_json'
  | 'port_in_use'
  | 'invalid_usage';

export class DevhostError extends DevhostBaseError<DevhostErrorCode> {
  readonly fault = 'caller';
}
