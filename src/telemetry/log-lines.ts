/**
 * A lifecycle event as one log line (pure):
 *
 * - `text`: `12:01:02 job.accepted job=3f2a… tenant=t1 type=OCR->EMBEDDING` (local time; the job,
 *   tenant, step and attempt first, under short names, then the other fields; absent ones left out;
 *   a value with spaces or quotes is JSON-quoted).
 * - `json`: `{"time":"…","event":"job.accepted","job_id":"…","tenant_id":"t1","step_id":null,
 *   "attempt_no":null,…}`: the four identifying fields on every line (null where they do not apply).
 */
import type { LogFormat } from '../config/telemetry-settings';
import type { LifecycleEvent, LifecycleFields } from '../ports/telemetry';

const SHORT_NAMES: Readonly<Record<string, string>> = {
  job_id: 'job',
  tenant_id: 'tenant',
  step_id: 'step',
  attempt_no: 'attempt',
  request_type: 'type',
  step_type: 'step_type',
};
const IDENTITY = ['job_id', 'tenant_id', 'step_id', 'attempt_no'] as const;

export function formatLifecycleLine(
  format: Exclude<LogFormat, 'off'>,
  at: Date,
  event: LifecycleEvent,
  fields: LifecycleFields,
): string {
  if (format === 'json') {
    const identity = Object.fromEntries(IDENTITY.map((name) => [name, fields[name] ?? null]));
    return JSON.stringify({ time: at.toISOString(), event, ...identity, ...defined(fields, IDENTITY) });
  }
  const ordered: [string, unknown][] = [
    ...IDENTITY.filter((name) => fields[name] !== undefined).map((name): [string, unknown] => [
      name,
      fields[name],
    ]),
    ...Object.entries(defined(fields, IDENTITY)),
  ];
  const pairs = ordered.map(([name, value]) => `${SHORT_NAMES[name] ?? name}=${textValue(value)}`);
  return [clockTime(at), event, ...pairs].join(' ');
}

function defined(fields: LifecycleFields, skip: readonly string[]): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).filter(([name, value]) => value !== undefined && !skip.includes(name)),
  );
}

function textValue(value: unknown): string {
  const text = String(value);
  return /^[^\s"=]+$/.test(text) ? text : JSON.stringify(text);
}

function clockTime(at: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())}`;
}
