/**
 * A step carries its job's tenant: set by admission planning, kept by every transition (they spread
 * the step), and absent on steps from before it was kept.
 */
import { planAdmission } from '../../../src/domain/admission';
import type { ProtocolRegistry } from '../../../src/domain/protocol';
import { noteIgnoredReply, transitionStep, type Step } from '../../../src/domain/step';

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
const now = new Date('2026-03-01T10:00:00.000Z');
const later = (seconds: number) => new Date(now.getTime() + seconds * 1000);

function plannedSteps(tenantId: string): readonly Step[] {
  return planAdmission({
    envelope: {
      tenant_id: tenantId,
      request_type: 'OCR->EMBEDDING',
      input_ref: 'in',
      output_ref: 'out',
      schema_version: 'v1',
      payload: { steps: { ocr: {}, embedding: {} } },
    },
    jobId: 'job-1',
    now,
    registry,
    validateStepPayload: () => [],
    laneCount: 16,
  }).steps;
}

describe("a step's tenant", () => {
  it("is the job's tenant on every planned step", () => {
    expect(plannedSteps('acme').map((step) => step.tenantId)).toEqual(['acme', 'acme']);
  });

  it('is kept by the transitions of an attempt and by a noted ignored reply', () => {
    const [first] = plannedSteps('acme');
    if (first === undefined) throw new Error('no step planned');
    let step = first;
    for (const event of [
      { type: 'DISPATCH', attemptNo: 1, leaseId: 'l1', ackDeadline: later(30).toISOString() },
      { type: 'PUBLISHED', attemptNo: 1, leaseId: 'l1' },
      { type: 'SUCCEED', attemptNo: 1, leaseId: 'l1', result: { ok: true } },
    ] as const) {
      step = transitionStep(step, event, later(1)).next;
      expect(step.tenantId).toBe('acme');
    }
    expect(step.status).toBe('SUCCEEDED');
    expect(noteIgnoredReply(step, 'duplicate', later(2)).tenantId).toBe('acme');
  });

  it('stays absent on a step that has none', () => {
    const [first] = plannedSteps('acme');
    if (first === undefined) throw new Error('no step planned');
    const { tenantId: _tenantId, ...old } = first;
    const next = transitionStep(old, { type: 'HOLD' }, later(1)).next;
    expect(next).not.toHaveProperty('tenantId');
  });
});
