/** ReplyQuarantine in memory, for tests and the in-process backend: keeps what was parked, in order. */
import type { QuarantinedReply, ReplyQuarantine } from '../ports/reply-quarantine';

export class MemoryReplyQuarantine implements ReplyQuarantine {
  readonly parked: QuarantinedReply[] = [];

  async quarantine(reply: QuarantinedReply): Promise<void> {
    await Promise.resolve();
    this.parked.push(reply);
  }
}
