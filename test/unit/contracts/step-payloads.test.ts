import { validateStepPayload } from '../../../src/contracts/step-payloads';
import type { ProtocolRegistry } from '../../../src/domain/protocol';
import { resolveProtocol } from '../../../src/domain/protocol';
import { StepPayloadError } from '../../../src/domain/errors';
import { embeddingPayload, ocrPayload, sisPayload } from './samples';

const pointers = (schemaId: string, payload: unknown): string[] =>
  validateStepPayload(schemaId, payload)
    .map((v) => v.pointer)
    .sort();

describe('validateStepPayload', () => {
  it.each([
    ['steps/ocr.v1', ocrPayload],
    ['steps/ocr.v1', { output_format: 'PDF' }],
    ['steps/embedding.v1', embeddingPayload],
    ['steps/embedding.v1', { model: 'm' }],
    ['steps/sis.v1', sisPayload],
    ['steps/sis.v1', { analysis: ['keywords'] }],
  ])('accepts a valid %s payload', (schemaId, payload) => {
    expect(validateStepPayload(schemaId, payload)).toEqual([]);
  });

  it.each([
    ['steps/ocr.v1', {}, ['/output_format']],
    ['steps/ocr.v1', { output_format: 'DOCX' }, ['/output_format']],
    ['steps/ocr.v1', { output_format: 'TEXT', dpi: 71 }, ['/dpi']],
    ['steps/ocr.v1', { output_format: 'TEXT', dpi: 1201 }, ['/dpi']],
    ['steps/ocr.v1', { output_format: 'TEXT', language: '' }, ['/language']],
    ['steps/ocr.v1', { output_format: 'TEXT', engine: 'tesseract' }, ['/engine']],
    ['steps/embedding.v1', { dimensions: 0 }, ['/dimensions', '/model']],
    ['steps/embedding.v1', { model: 'm', dimensions: 8193 }, ['/dimensions']],
    ['steps/embedding.v1', { model: 'm', chunk_size: 63 }, ['/chunk_size']],
    ['steps/embedding.v1', { model: 'm', chunk_overlap: -1 }, ['/chunk_overlap']],
    ['steps/sis.v1', { analysis: [] }, ['/analysis']],
    ['steps/sis.v1', { analysis: ['summary', 'summary'] }, ['/analysis']],
    ['steps/sis.v1', { analysis: ['summary', 'translation'] }, ['/analysis/1']],
    ['steps/sis.v1', { analysis: ['summary'], instructions: 'x'.repeat(4001) }, ['/instructions']],
    ['steps/sis.v1', 'summary', ['']],
  ])('refuses the %s payload %j, with pointers relative to the payload', (schemaId, payload, expected) => {
    expect(pointers(schemaId, payload)).toEqual(expected);
  });

  it.each(['1', '1-3', '1-3,5', '2,4,6-8'])('accepts pages %j', (pages) => {
    expect(validateStepPayload('steps/ocr.v1', { output_format: 'TEXT', pages })).toEqual([]);
  });

  it.each(['', '0', '1-', '-3', '1,,2', '1-3;5', 'all', '1 - 3'])('refuses pages %j', (pages) => {
    expect(pointers('steps/ocr.v1', { output_format: 'TEXT', pages })).toEqual(['/pages']);
  });

  it.each(['steps/ocr.v9', 'steps/translate.v1', 'command-envelope.v1', ''])(
    'returns a violation for the unknown schema id %j instead of throwing',
    (schemaId) => {
      expect(validateStepPayload(schemaId, {})).toEqual([
        {
          pointer: '',
          message: `unknown step payload schema "${schemaId}" (known: steps/ocr.v1, steps/embedding.v1, steps/sis.v1)`,
          keyword: 'schema',
        },
      ]);
    },
  );

  it('lets protocol resolution locate a bad step payload within the envelope', () => {
    const registry: ProtocolRegistry = {
      version: 'v1',
      protocols: new Map([
        [
          'OCR->EMBEDDING',
          {
            requestType: 'OCR->EMBEDDING',
            steps: [
              { stepId: 'ocr', type: 'OCR', payloadSchema: 'steps/ocr.v1' },
              { stepId: 'embedding', type: 'EMBEDDING', payloadSchema: 'steps/embedding.v1' },
            ],
          },
        ],
      ]),
    };
    const envelope = {
      request_type: 'OCR->EMBEDDING',
      payload: { steps: { ocr: { output_format: 'TXT' }, embedding: { model: 'm', chunk_size: 1 } } },
    };

    expect(() => resolveProtocol(envelope, registry, validateStepPayload)).toThrow(StepPayloadError);
    try {
      resolveProtocol(envelope, registry, validateStepPayload);
    } catch (error) {
      expect((error as StepPayloadError).violations.map((v) => v.pointer)).toEqual([
        '/payload/steps/ocr/output_format',
        '/payload/steps/embedding/chunk_size',
      ]);
    }
  });
});
