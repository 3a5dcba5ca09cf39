/**
 * ReplyQuarantine on Azure Service Bus: the reply is sent, body unchanged, to the quarantine queue
 * (`LUCIUS_SERVICEBUS_QUARANTINE_QUEUE`) with subject `quarantined-reply` and its reason,
 * description and source as application properties. One sender, created on first use; a sender
 * whose send failed is dropped, so the next quarantine opens a fresh link.
 */
import type { ServiceBusClient, ServiceBusSender } from '@azure/service-bus';
import type { QuarantinedReply, ReplyQuarantine } from '../ports/reply-quarantine';

export class ServiceBusReplyQuarantine implements ReplyQuarantine {
  private sender: ServiceBusSender | undefined;

  constructor(
    private readonly client: () => ServiceBusClient,
    private readonly queue: string,
  ) {}

  async quarantine(reply: QuarantinedReply): Promise<void> {
    this.sender ??= this.client().createSender(this.queue);
    try {
      await this.sender.sendMessages({
        body: reply.body,
        contentType: 'application/json',
        subject: 'quarantined-reply',
        ...(reply.correlationId === undefined ? {} : { correlationId: reply.correlationId }),
        applicationProperties: {
          reason: reply.reason,
          description: reply.description,
          source: reply.source,
          ...(reply.sourceMessageId === undefined ? {} : { source_message_id: reply.sourceMessageId }),
        },
      });
    } catch (error) {
      const broken = this.sender;
      this.sender = undefined;
      await broken?.close().catch(() => undefined);
      throw error;
    }
  }
}
