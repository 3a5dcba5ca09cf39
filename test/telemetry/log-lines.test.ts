import { formatLifecycleLine } from '../../src/telemetry/log-lines';

const AT = new Date(2026, 4, 1, 12, 1, 2);

describe('formatLifecycleLine', () => {
  it('writes one readable line: time, event, job, tenant, step, attempt, then the rest', () => {
    const line = formatLifecycleLine('text', AT, 'step.retry', {
      reason: 'worker busy',
      job_id: 'j1',
      attempt_no: 2,
      step_id: 'ocr',
      tenant_id: 't1',
      failure_class: 'TRANSIENT',
      retry_delay_ms: undefined,
    });
    expect(line).toBe(
      '12:01:02 step.retry job=j1 tenant=t1 step=ocr attempt=2 reason="worker busy" failure_class=TRANSIENT',
    );
  });

  it('writes JSON with the four identifying fields on every line', () => {
    const line = formatLifecycleLine('json', AT, 'job.accepted', {
      job_id: 'j1',
      tenant_id: 't1',
      request_type: 'OCR->EMBEDDING',
    });
    expect(JSON.parse(line)).toEqual({
      time: AT.toISOString(),
      event: 'job.accepted',
      job_id: 'j1',
      tenant_id: 't1',
      step_id: null,
      attempt_no: null,
      request_type: 'OCR->EMBEDDING',
    });
  });
});
