/**
 * Loads the protocol registry (schemas/protocols.v1.json unless told otherwise) into the domain's
 * ProtocolRegistry.
 *
 * The file must be valid against protocol-registry.v1, every payload_schema must name a known step
 * schema and step ids must be unique within a protocol. Anything wrong fails start-up with one
 * ProtocolRegistryError (code `invalid_protocol_registry`, fault `system`) naming every problem.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { LuciusError, type Violation } from '../domain/errors';
import { escapePointerToken, type Protocol, type ProtocolRegistry } from '../domain/protocol';
import {
  validateProtocolRegistryDocument,
  type ProtocolRegistryDocument,
} from '../contracts/protocol-registry-document';
import { SCHEMAS_DIR } from '../contracts/schema-files';
import { isStepPayloadSchemaId } from '../contracts/step-payloads';

export const DEFAULT_PROTOCOL_REGISTRY_PATH = join(SCHEMAS_DIR, 'protocols.v1.json');

export class ProtocolRegistryError extends LuciusError {
  constructor(
    readonly source: string,
    problems: readonly Violation[],
    cause?: unknown,
  ) {
    const listed = problems
      .map((p) => (p.pointer === '' ? p.message : `${p.pointer}: ${p.message}`))
      .join('; ');
    super('invalid_protocol_registry', `protocol registry ${source} is invalid: ${listed}`, {
      fault: 'system',
      violations: problems,
      details: { source },
      cause,
    });
  }
}

export function loadProtocolRegistry(path: string = DEFAULT_PROTOCOL_REGISTRY_PATH): ProtocolRegistry {
  const source = resolve(path);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(source, 'utf8'));
  } catch (error) {
    throw new ProtocolRegistryError(
      source,
      [{ pointer: '', message: `cannot read it as JSON (${(error as Error).message})` }],
      error,
    );
  }
  return parseProtocolRegistry(json, source);
}

/** `source` names the document in error messages (a path, or a label in tests). */
export function parseProtocolRegistry(json: unknown, source: string): ProtocolRegistry {
  const validated = validateProtocolRegistryDocument(json);
  if (!validated.ok) throw new ProtocolRegistryError(source, validated.violations);
  const problems = crossCheck(validated.value);
  if (problems.length > 0) throw new ProtocolRegistryError(source, problems);

  const protocols = new Map<string, Protocol>();
  for (const [requestType, doc] of Object.entries(validated.value.protocols)) {
    protocols.set(
      requestType,
      Object.freeze({
        requestType,
        ...(doc.description === undefined ? {} : { description: doc.description }),
        steps: Object.freeze(
          doc.steps.map((s) =>
            Object.freeze({ stepId: s.step_id, type: s.type, payloadSchema: s.payload_schema }),
          ),
        ),
      }),
    );
  }
  return Object.freeze({ version: validated.value.schema_version, protocols });
}

/** The rules JSON Schema cannot state: known payload schemas, unique step ids per protocol. */
function crossCheck(doc: ProtocolRegistryDocument): Violation[] {
  const problems: Violation[] = [];
  for (const [requestType, protocol] of Object.entries(doc.protocols)) {
    const seen = new Set<string>();
    protocol.steps.forEach((step, index) => {
      const base = `/protocols/${escapePointerToken(requestType)}/steps/${index}`;
      if (seen.has(step.step_id)) {
        problems.push({
          pointer: `${base}/step_id`,
          message: `step_id "${step.step_id}" is used twice in ${requestType}`,
          keyword: 'uniqueStepId',
        });
      }
      seen.add(step.step_id);
      if (!isStepPayloadSchemaId(step.payload_schema)) {
        problems.push({
          pointer: `${base}/payload_schema`,
          message: `unknown step payload schema "${step.payload_schema}"`,
          keyword: 'knownSchema',
        });
      }
    });
  }
  return problems;
}
