/**
 * Reading a directive as a worker should: decode the message body (the SDK hands over the parsed
 * JSON object; a string or UTF-8 bytes are accepted too) and validate it against the published
 * contract, schemas/directive.v1.json, with the worker's own ajv (JSON Schema 2020-12 + formats).
 * Only the TypeScript shape is borrowed from src/contracts (a type import, gone at run time).
 *
 * A body that is not JSON or breaks the schema can never succeed: `readDirective` says why, in the
 * shape of the SDK's dead-letter options, and the caller dead-letters the message.
 *
 * `callback_token` (optional in v1) is accepted and kept as it came; a worker drops nothing new and
 * echoes only the attempt (job_id, step_id, attempt_no, lease_id) in its replies: the token is never
 * part of a reply body. These workers reply over Service Bus, where the namespace's RBAC decides who
 * may send to the reply topics; a worker that calls back over HTTP instead sends the token as header
 * `Lucius-Callback-Token` on each ACK, heartbeat and RESULT of that attempt.
 *
 * `ack_deadline` is when Lucius stops waiting for the ACK: a worker drops (completes without running
 * and without replying) a directive whose `ack_deadline` has passed when it receives it. Lucius has
 * already ended that attempt as not started and may have sent a new one; the message's time to live
 * is the same deadline, so Service Bus usually drops it first. A worker ACKs before it starts work.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import type { Directive } from '../src/contracts/directive';

export type { CancelDirective, Directive, StepDirective } from '../src/contracts/directive';

export const INVALID_DIRECTIVE_REASON = 'invalid_directive';

export type DirectiveReading =
  | { readonly ok: true; readonly directive: Directive }
  | {
      readonly ok: false;
      readonly deadLetterReason: string;
      readonly deadLetterErrorDescription: string;
    };

const MAX_DESCRIPTION_LENGTH = 4096;

const ajv = new Ajv2020({ allErrors: true, strict: true });
addFormats(ajv);
const validate = ajv.compile(
  JSON.parse(readFileSync(join(schemasDir(__dirname), 'directive.v1.json'), 'utf8')) as object,
);

export function readDirective(body: unknown): DirectiveReading {
  let document: unknown;
  try {
    document = decode(body);
  } catch (error) {
    return invalid(`the body is not JSON (${(error as Error).message})`);
  }
  if (validate(document)) return { ok: true, directive: document as Directive };
  const problems = (validate.errors ?? []).map(
    (e) => `${e.instancePath === '' ? '(body)' : e.instancePath}: ${e.message ?? e.keyword}`,
  );
  return invalid(`the body breaks directive.v1: ${problems.join('; ')}`);
}

function decode(body: unknown): unknown {
  const text = body instanceof Uint8Array ? new TextDecoder('utf-8', { fatal: true }).decode(body) : body;
  return typeof text === 'string' ? (JSON.parse(text) as unknown) : text;
}

function invalid(description: string): DirectiveReading {
  return {
    ok: false,
    deadLetterReason: INVALID_DIRECTIVE_REASON,
    deadLetterErrorDescription:
      description.length <= MAX_DESCRIPTION_LENGTH
        ? description
        : `${description.slice(0, MAX_DESCRIPTION_LENGTH - 1)}…`,
  };
}

/** The project's schemas/ folder: the same walk works from workers/ (ts-jest) and dist/workers/. */
function schemasDir(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'schemas', 'directive.v1.json'))) return join(dir, 'schemas');
    if (dirname(dir) === dir) throw new Error(`no schemas/directive.v1.json at or above ${from}`);
  }
}
