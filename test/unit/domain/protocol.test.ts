import { StepPayloadError, UnknownRequestTypeError } from '../../../src/domain/errors';
import {
  resolveProtocol,
  type ProtocolRegistry,
  type StepPayloadValidator,
} from '../../../src/domain/protocol';
import { planAdmission } from '../../../src/domain/admission';
import { laneFor } from '../../../src/domain/lanes';

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
const validate: StepPayloadValidator = (schemaId, payload) =>
  schemaId === 'steps/ocr.v1' && (payload as { output_format?: unknown }).output_format === undefined
    ? [{ pointer: '/output_format', message: 'is required', keyword: 'required' }]
    : [];
const envelope = {
  tenant_id: 't1',
  request_type: 'OCR->EMBEDDING',
  input_ref: 'in',
  output_ref: 'out',
  schema_version: 'v1' as const,
  payload: { steps: { ocr: { output_format: 'TEXT' }, embedding: { model: 'text-embedding-3-large' } } },
};

describe('resolveProtocol', () => {
  it('resolves a request type to its ordered steps with their payloads', () => {
    const { steps } = resolveProtocol(envelope, registry, validate);
    expect(steps.map((s) => [s.index, s.stepId, s.type])).toEqual([
      [0, 'ocr', 'OCR'],
      [1, 'embedding', 'EMBEDDING'],
    ]);
    expect(steps[1]?.payload).toEqual({ model: 'text-embedding-3-large' });
  });

  it('refuses an unknown request type, listing the known ones', () => {
    expect(() => resolveProtocol({ ...envelope, request_type: 'FAX' }, registry, validate)).toThrow(
      UnknownRequestTypeError,
    );
  });

  it('reports every missing, invalid and unexpected step payload with its pointer', () => {
    const bad = { ...envelope, payload: { steps: { ocr: {}, 'sis/x': {} } } };
    try {
      resolveProtocol(bad, registry, validate);
      throw new Error('expected a throw');
    } catch (error) {
      expect(error).toBeInstanceOf(StepPayloadError);
      expect((error as StepPayloadError).violations.map((v) => v.pointer).sort()).toEqual([
        '/payload/steps/embedding',
        '/payload/steps/ocr/output_format',
        '/payload/steps/sis~1x',
      ]);
    }
  });
});

describe('planAdmission', () => {
  it('builds an ACCEPTED job and PENDING steps on the routed lane, the first step reading the job input', () => {
    const now = new Date('2026-03-01T10:00:00.000Z');
    const plan = planAdmission({
      envelope,
      jobId: 'job-1',
      now,
      registry,
      validateStepPayload: validate,
      laneCount: 16,
    });
    expect(plan.job).toMatchObject({
      jobId: 'job-1',
      status: 'ACCEPTED',
      tenantId: 't1',
      lane: laneFor('t1', 16),
      priority: 5,
      stepIds: ['ocr', 'embedding'],
      createdAt: now.toISOString(),
    });
    expect(plan.steps.map((s) => [s.stepId, s.status, s.attemptNo, s.lane, s.inputRef])).toEqual([
      ['ocr', 'PENDING', 0, laneFor('t1', 16), 'in'],
      ['embedding', 'PENDING', 0, laneFor('t1', 16), undefined],
    ]);
    expect(plan.idempotency.source).toBe('derived');
  });
});
