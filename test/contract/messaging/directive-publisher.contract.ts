/**
 * The DirectivePublisher contract: one suite, run unchanged against every adapter (memory, Service
 * Bus). `make` returns a publisher over fresh entities plus a way to see what the workers of one
 * platform on one lane were handed; every test also uses its own job id, and `delivered` only
 * reports that job's directives.
 * Adapter-specific checks live in the `*-directive-publisher.test.ts` files.
 */
import type { Directive } from '../../../src/contracts/directive';
import type { StepType } from '../../../src/domain/step';
import { buildCancelDirective } from '../../../src/contracts/build-directive';
import type { DirectivePublisher } from '../../../src/ports/directive-publisher';
import { InvalidDirectiveError } from '../../../src/messaging/errors';
import { uniqueToken } from '../../support/unique';
import { directive, job, REPLY_PREFIX, step, T0 } from '../../unit/messaging/fixtures';

export interface PublisherUnderTest {
  readonly publisher: DirectivePublisher;
  /** The directives for `jobId` waiting on the subscription of `stepType`'s platform on `lane`. */
  delivered(lane: number, stepType: StepType, jobId: string): Promise<Directive[]>;
  /** Closes the publisher and whatever `make` started for it. */
  close(): Promise<void>;
}

export function describeDirectivePublisherContract(
  name: string,
  make: () => Promise<PublisherUnderTest>,
): void {
  describe(`${name} (DirectivePublisher contract)`, () => {
    let under: PublisherUnderTest;
    let jobId: string;

    beforeEach(async () => {
      under = await make();
      jobId = `job-${uniqueToken()}`;
    });

    afterEach(async () => {
      await under.close();
    });

    it("hands a directive to its step type's platform on its lane only", async () => {
      const ocr = directive({ jobId, type: 'OCR', lane: 1 });
      await under.publisher.publish(ocr);

      expect(await under.delivered(1, 'OCR', jobId)).toEqual([ocr]);
      expect(await under.delivered(1, 'EMBEDDING', jobId)).toEqual([]);
      expect(await under.delivered(1, 'SIS', jobId)).toEqual([]);
      expect(await under.delivered(0, 'OCR', jobId)).toEqual([]);
    });

    it('hands over a re-published attempt once', async () => {
      const first = directive({ jobId, type: 'EMBEDDING', lane: 0, attemptNo: 1 });
      await under.publisher.publish(first);
      await under.publisher.publish(first);
      await under.publisher.publish({ ...first, issued_at: '2030-01-01T00:00:09.000Z' });

      expect(await under.delivered(0, 'EMBEDDING', jobId)).toEqual([first]);
    });

    it('hands over the next attempt and a cancel as messages of their own', async () => {
      const first = directive({ jobId, type: 'SIS', lane: 1, attemptNo: 1 });
      const second = directive({ jobId, type: 'SIS', lane: 1, attemptNo: 2 });
      const cancel = buildCancelDirective({
        job: job(jobId),
        step: step(jobId, 'SIS', { lane: 1 }),
        attempt: { attemptNo: 2, leaseId: second.lease_id },
        reason: 'cancelled',
        replyPrefix: REPLY_PREFIX,
        issuedAt: T0,
      });
      for (const document of [first, second, cancel]) await under.publisher.publish(document);

      expect(await under.delivered(1, 'SIS', jobId)).toEqual([first, second, cancel]);
    });

    it('refuses a document that breaks directive.v1, sending nothing', async () => {
      const { ack_deadline: _deadline, ...noDeadline } = directive({ jobId, type: 'OCR', lane: 1 });
      const broken = { ...noDeadline, lease_id: 'not-a-uuid' } as unknown as Directive;

      const error = await under.publisher.publish(broken).then(
        () => undefined,
        (caught: unknown) => caught,
      );

      expect(error).toBeInstanceOf(InvalidDirectiveError);
      expect(error).toMatchObject({ code: 'invalid_directive', fault: 'system', retryable: false });
      const pointers = (error as InvalidDirectiveError).violations.map((v) => v.pointer).sort();
      expect(pointers).toEqual(['/ack_deadline', '/lease_id']);
      expect(await under.delivered(1, 'OCR', jobId)).toEqual([]);
    });
  });
}
