import { InvalidReplyError } from '../../../src/contracts/errors';
import { deadLetterReasonFor, decodeReply } from '../../../src/contracts/reply-decoder';
import type { WorkerReply } from '../../../src/domain/worker-reply';

const LEASE = '5b0f8f4e-3c1a-4d57-9b3e-2f7c1a0d9e42';
const attempt = { schema_version: 'v1', job_id: 'job-1', step_id: 'ocr', attempt_no: 2, lease_id: LEASE };

const ACK = {
  ...attempt,
  kind: 'ack',
  acked_at: '2030-01-01T00:00:01Z',
  worker_id: 'ocr-7',
  lease_minutes: 20,
};
const HEARTBEAT = {
  ...attempt,
  kind: 'heartbeat',
  sent_at: '2030-01-01T00:05:00Z',
  extend_minutes: 10,
  progress: 40,
};
const SUCCEEDED = {
  ...attempt,
  kind: 'result',
  status: 'SUCCEEDED',
  output_ref: 'blob://out/doc/ocr',
  result: { pages: 3 },
  completed_at: '2030-01-01T00:09:00Z',
};
const FAILED = {
  ...attempt,
  kind: 'result',
  status: 'FAILED',
  failure: { failure_class: 'TRANSIENT', message: 'OCR engine restarted' },
  completed_at: '2030-01-01T00:09:00Z',
};

const replyAttempt = { jobId: 'job-1', stepId: 'ocr', attemptNo: 2, leaseId: LEASE };

/** The InvalidReplyError `decode` throws, or a failure when it does not throw one. */
function rejection(decode: () => unknown): InvalidReplyError {
  try {
    decode();
  } catch (error) {
    if (error instanceof InvalidReplyError) return error;
    throw error;
  }
  throw new Error('expected an InvalidReplyError');
}

const pointers = (error: InvalidReplyError) => error.violations.map((v) => v.pointer).sort();

describe('decodeReply', () => {
  describe('valid replies', () => {
    it.each<[string, unknown, WorkerReply]>([
      [
        'an ACK',
        ACK,
        {
          kind: 'ack',
          ...replyAttempt,
          ackedAt: '2030-01-01T00:00:01Z',
          workerId: 'ocr-7',
          leaseMinutes: 20,
        },
      ],
      [
        'a heartbeat',
        HEARTBEAT,
        {
          kind: 'heartbeat',
          ...replyAttempt,
          sentAt: '2030-01-01T00:05:00Z',
          extendMinutes: 10,
          progress: 40,
        },
      ],
      [
        'a SUCCEEDED result',
        SUCCEEDED,
        {
          kind: 'result',
          ...replyAttempt,
          status: 'SUCCEEDED',
          outputRef: 'blob://out/doc/ocr',
          result: { pages: 3 },
          completedAt: '2030-01-01T00:09:00Z',
        },
      ],
      [
        'a FAILED result',
        FAILED,
        {
          kind: 'result',
          ...replyAttempt,
          status: 'FAILED',
          failure: { failureClass: 'TRANSIENT', message: 'OCR engine restarted' },
          completedAt: '2030-01-01T00:09:00Z',
        },
      ],
    ])('decodes %s', (_name, body, expected) => {
      expect(decodeReply(body)).toEqual(expected);
    });

    it('leaves optional fields out when the reply has none', () => {
      const { worker_id: _w, lease_minutes: _l, ...bare } = ACK;
      expect(decodeReply(bare)).toEqual({ kind: 'ack', ...replyAttempt, ackedAt: '2030-01-01T00:00:01Z' });
    });

    it('decodes the same reply from an object, a JSON string, UTF-8 bytes and an ArrayBuffer', () => {
      const json = JSON.stringify(SUCCEEDED);
      const bytes = Buffer.from(json, 'utf8');
      const arrayBuffer = new TextEncoder().encode(json).buffer;
      const expected = decodeReply(SUCCEEDED);
      expect(decodeReply(json)).toEqual(expected);
      expect(decodeReply(bytes)).toEqual(expected);
      expect(decodeReply(new Uint8Array(bytes))).toEqual(expected);
      expect(decodeReply(arrayBuffer)).toEqual(expected);
    });

    it('accepts a route kind and URL that match the body', () => {
      expect(decodeReply(ACK, { kind: 'ack', jobId: 'job-1', stepId: 'ocr' }).kind).toBe('ack');
    });
  });

  describe('invalid replies', () => {
    it('rejects an ACK that lacks its lease and has a bad attempt, pointing at both', () => {
      const { lease_id: _lease, ...noLease } = ACK;
      const error = rejection(() => decodeReply({ ...noLease, attempt_no: 0 }));
      expect(error.code).toBe('invalid_reply');
      expect(error.fault).toBe('caller');
      expect(error.retryable).toBe(false);
      expect(error.details).toEqual({ contract: 'ack.v1' });
      expect(pointers(error)).toEqual(['/attempt_no', '/lease_id']);
    });

    it('rejects a heartbeat asking for more than the longest lease', () => {
      const error = rejection(() => decodeReply({ ...HEARTBEAT, extend_minutes: 61 }));
      expect(error.details).toEqual({ contract: 'heartbeat.v1' });
      expect(error.violations).toEqual([
        expect.objectContaining({ pointer: '/extend_minutes', keyword: 'maximum' }),
      ]);
    });

    it('rejects a SUCCEEDED result without output_ref and a FAILED one without failure', () => {
      const { output_ref: _o, ...noOutput } = SUCCEEDED;
      expect(pointers(rejection(() => decodeReply(noOutput)))).toContain('/output_ref');
      const { failure: _f, ...noFailure } = FAILED;
      expect(pointers(rejection(() => decodeReply(noFailure)))).toContain('/failure');
    });

    it('rejects an unknown failure class and an unknown property, pointing into the body', () => {
      const error = rejection(() =>
        decodeReply({ ...FAILED, failure: { failure_class: 'OOPS', message: 'x' }, extra: true }),
      );
      expect(pointers(error)).toEqual(['/extra', '/failure/failure_class']);
    });

    it('rejects a body that names no kind, or an unknown one, at /kind', () => {
      const { kind: _k, ...noKind } = ACK;
      expect(rejection(() => decodeReply(noKind)).violations).toEqual([
        expect.objectContaining({ pointer: '/kind', keyword: 'required' }),
      ]);
      expect(rejection(() => decodeReply({ ...ACK, kind: 'nack' })).violations).toEqual([
        expect.objectContaining({ pointer: '/kind', keyword: 'enum' }),
      ]);
    });

    it('rejects what is not a JSON object: bad JSON, bad UTF-8, arrays, empty bodies', () => {
      for (const body of [
        '{"kind":',
        Buffer.from([0xff, 0xfe, 0x00]),
        '[]',
        [ACK],
        '',
        null,
        undefined,
        42,
      ]) {
        const error = rejection(() => decodeReply(body));
        expect(error.violations).toHaveLength(1);
        expect(error.violations[0]?.pointer).toBe('');
        expect(error.details).toEqual({});
      }
    });

    it('rejects a body whose kind differs from the route, pointing at /kind', () => {
      const error = rejection(() => decodeReply(HEARTBEAT, { kind: 'ack' }));
      expect(error.details).toEqual({ contract: 'ack.v1' });
      expect(pointers(error)).toContain('/kind');
    });

    it('rejects a body for another job or step than the URL names', () => {
      const error = rejection(() => decodeReply(ACK, { kind: 'ack', jobId: 'job-2', stepId: 'embedding' }));
      expect(pointers(error)).toEqual(['/job_id', '/step_id']);
    });
  });

  describe('the message subject as a hint', () => {
    it('reports against the subject contract when the body names no kind', () => {
      const { kind: _k, ...noKind } = SUCCEEDED;
      const error = rejection(() => decodeReply(noKind, { subject: 'RESULT' }));
      expect(error.details).toEqual({ contract: 'result.v1' });
      expect(pointers(error)).toEqual(['/kind']);
    });

    it('lets the body kind win over the subject', () => {
      expect(decodeReply(HEARTBEAT, { subject: 'ack' }).kind).toBe('heartbeat');
    });
  });
});

describe('deadLetterReasonFor', () => {
  it('names the code and every violation with its pointer', () => {
    const { lease_id: _lease, ...noLease } = ACK;
    const reason = deadLetterReasonFor(rejection(() => decodeReply({ ...noLease, attempt_no: 0 })));
    expect(reason.deadLetterReason).toBe('invalid_reply');
    expect(reason.deadLetterErrorDescription).toContain('ack.v1');
    expect(reason.deadLetterErrorDescription).toContain('/lease_id: required property "lease_id" is missing');
    expect(reason.deadLetterErrorDescription).toContain('/attempt_no: ');
  });

  it('keeps the description bounded', () => {
    const error = new InvalidReplyError('ack.v1', [{ pointer: '/x', message: 'y'.repeat(10_000) }]);
    expect(deadLetterReasonFor(error).deadLetterErrorDescription.length).toBeLessThanOrEqual(4096);
  });
});
