/** MemoryDirectivePublisher: the shared contract, then its simulated outage. */
import { DirectivePublishError } from '../../../src/messaging/errors';
import { MemoryDirectivePublisher } from '../../../src/messaging/memory-directive-publisher';
import { directive } from '../../unit/messaging/fixtures';
import { describeDirectivePublisherContract } from './directive-publisher.contract';

describeDirectivePublisherContract('MemoryDirectivePublisher', async () => {
  const publisher = new MemoryDirectivePublisher('global-bus-p');
  return {
    publisher,
    delivered: async (lane, stepType, jobId) =>
      publisher
        .published(`global-bus-p${lane}`)
        .map((entry) => entry.directive)
        .filter((d) => d.step_type === stepType && d.job_id === jobId),
    close: () => publisher.close(),
  };
});

describe('MemoryDirectivePublisher', () => {
  it('fails every publish with a retryable directive_publish_failed during an outage, and recovers', async () => {
    const publisher = new MemoryDirectivePublisher();
    const document = directive({ lane: 4 });
    publisher.startOutage();

    await expect(publisher.publish(document)).rejects.toBeInstanceOf(DirectivePublishError);
    await expect(publisher.publish(document)).rejects.toMatchObject({
      code: 'directive_publish_failed',
      retryable: true,
      details: { topic: 'global-bus-p4', message_id: 'job-1:ocr:1' },
    });
    expect(publisher.published()).toEqual([]);

    publisher.endOutage();
    await publisher.publish(document);
    expect(publisher.published()).toEqual([
      { topic: 'global-bus-p4', messageId: 'job-1:ocr:1', directive: document },
    ]);
  });
});
