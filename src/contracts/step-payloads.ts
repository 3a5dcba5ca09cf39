/**
 * TypeScript shapes of the step payload schemas (schemas/steps/*.json) and the StepPayloadValidator
 * the domain resolves protocols with. Pointers are relative to the payload; an unknown schema id is
 * a violation at "" (never a throw), so a registry/schema mismatch surfaces as a refused command.
 */
import type { Violation } from '../domain/errors';
import type { StepPayloadValidator } from '../domain/protocol';
import { STEP_PAYLOAD_SCHEMA_IDS, type StepPayloadSchemaId } from './schema-files';
import { validatorFor, type Validator } from './validation';

export interface OcrStepPayload {
  readonly output_format: 'TEXT' | 'JSON' | 'HOCR' | 'PDF';
  readonly language?: string;
  /** 72..1200. */
  readonly dpi?: number;
  /** 1-based pages and ranges, e.g. "1-3,5"; every page when absent. */
  readonly pages?: string;
}

export interface EmbeddingStepPayload {
  readonly model: string;
  readonly dimensions?: number;
  readonly chunk_size?: number;
  readonly chunk_overlap?: number;
}

export const SIS_ANALYSES = ['entities', 'summary', 'classification', 'sentiment', 'keywords'] as const;
export type SisAnalysis = (typeof SIS_ANALYSES)[number];

export interface SisStepPayload {
  readonly analysis: readonly SisAnalysis[];
  readonly language?: string;
  readonly instructions?: string;
}

export interface StepPayloadBySchema {
  readonly 'steps/ocr.v1': OcrStepPayload;
  readonly 'steps/embedding.v1': EmbeddingStepPayload;
  readonly 'steps/sis.v1': SisStepPayload;
}

const validators: { readonly [Id in StepPayloadSchemaId]: Validator<StepPayloadBySchema[Id]> } = {
  'steps/ocr.v1': validatorFor('steps/ocr.v1'),
  'steps/embedding.v1': validatorFor('steps/embedding.v1'),
  'steps/sis.v1': validatorFor('steps/sis.v1'),
};

export function isStepPayloadSchemaId(id: string): id is StepPayloadSchemaId {
  return (STEP_PAYLOAD_SCHEMA_IDS as readonly string[]).includes(id);
}

export const validateStepPayload: StepPayloadValidator = (schemaId, payload): readonly Violation[] => {
  if (!isStepPayloadSchemaId(schemaId)) {
    return [
      {
        pointer: '',
        message: `unknown step payload schema "${schemaId}" (known: ${STEP_PAYLOAD_SCHEMA_IDS.join(', ')})`,
        keyword: 'schema',
      },
    ];
  }
  const result = validators[schemaId](payload);
  return result.ok ? [] : result.violations;
};
