/**
 * The workers' reading of a directive accepts the optional callback token and keeps it as it came,
 * and their replies echo only the attempt, never the token.
 */
import { randomUUID } from 'node:crypto';
import type { StepDirective } from '../../src/contracts/directive';
import { readDirective } from '../../workers/directive-contract';
import { ackFor, succeededFor } from '../../workers/replies';

const directive: StepDirective = {
  schema_version: 'v1',
  kind: 'directive',
  job_id: randomUUID(),
  tenant_id: 't1',
  step_id: 'ocr',
  step_index: 0,
  step_type: 'OCR',
  attempt_no: 1,
  lease_id: randomUUID(),
  lane: 0,
  input_ref: 'blob://in/doc.pdf',
  output_ref: 'blob://out/doc',
  payload: { output_format: 'TEXT' },
  ack_deadline: '2030-01-01T00:00:30.000Z',
  reply_to: 'global-bus-replies-p0',
  issued_at: '2030-01-01T00:00:00.000Z',
};
const token = `lcb1.2026-01.${Buffer.from('{"a":1}').toString('base64url')}.${'Q'.repeat(43)}`;

describe('readDirective', () => {
  it('accepts a directive with its callback token, as sent, and one without', () => {
    const withToken = { ...directive, callback_token: token };
    expect(readDirective(JSON.stringify(withToken))).toEqual({ ok: true, directive: withToken });
    expect(readDirective(directive)).toEqual({ ok: true, directive });
  });

  it('never puts the token in a reply', () => {
    const read = readDirective({ ...directive, callback_token: token });
    if (!read.ok) throw new Error(read.deadLetterErrorDescription);
    const now = new Date('2030-01-01T00:00:01.000Z');
    const received = read.directive as StepDirective;
    for (const reply of [ackFor(received, 'worker-1', now), succeededFor(received, {}, now)]) {
      expect(JSON.stringify(reply)).not.toContain(token);
      expect(reply).toMatchObject({ job_id: directive.job_id, attempt_no: 1, lease_id: directive.lease_id });
    }
  });
});
