/**
 * DirectivePublisher in memory, for tests and the in-process backend: validates like the Service
 * Bus adapter, keeps what was published per lane topic, and drops a message whose id it has already
 * taken (as the topics' duplicate detection does). `startOutage` simulates a transport outage.
 */
import { validateDirective, type Directive } from '../contracts/directive';
import { directiveMessageId, directiveTopic } from './directive-message';
import type { DirectivePublisher } from '../ports/directive-publisher';
import { DirectivePublishError, InvalidDirectiveError } from './errors';

export interface PublishedDirective {
  readonly topic: string;
  readonly messageId: string;
  readonly directive: Directive;
}

export class MemoryDirectivePublisher implements DirectivePublisher {
  private readonly taken = new Map<string, PublishedDirective>();
  private outage: { readonly cause: unknown } | undefined;

  constructor(private readonly topicPrefix = 'global-bus-p') {}

  async publish(directive: Directive): Promise<void> {
    const messageId = directiveMessageId(directive);
    const checked = validateDirective(directive);
    if (!checked.ok) throw new InvalidDirectiveError(messageId, checked.violations);
    const topic = directiveTopic(this.topicPrefix, directive);
    if (this.outage !== undefined) throw new DirectivePublishError(topic, messageId, this.outage.cause);
    if (!this.taken.has(messageId)) {
      // A copy, so later changes to the caller's object do not rewrite history.
      this.taken.set(messageId, { topic, messageId, directive: structuredClone(checked.value) });
    }
  }

  /** What was published, in order, optionally only to one topic. */
  published(topic?: string): PublishedDirective[] {
    const all = [...this.taken.values()];
    return topic === undefined ? all : all.filter((entry) => entry.topic === topic);
  }

  /** Every publish fails with DirectivePublishError, caused by `cause`, until `endOutage()`. */
  startOutage(cause: unknown = new Error('the message broker is unavailable')): void {
    this.outage = { cause };
  }

  endOutage(): void {
    this.outage = undefined;
  }

  async close(): Promise<void> {}
}
