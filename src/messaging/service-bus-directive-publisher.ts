/**
 * DirectivePublisher on Azure Service Bus: each directive goes to its lane topic
 * `{topicPrefix}{lane}` as the message `toDirectiveMessage` describes; the platforms' subscriptions
 * pick it up by `step_type`. One ServiceBusClient (one AMQP connection) serves the process; one
 * sender per topic is created on first use and reused. A sender whose send failed is dropped, so the
 * next publish to that topic opens a fresh link.
 *
 * Errors: InvalidDirectiveError (not retryable, nothing sent) for a document that breaks
 * directive.v1; DirectivePublishError (`directive_publish_failed`, retryable) for anything the
 * transport refused, with the SDK's error as `cause` and its code in `details.service_bus_code`.
 */
import type { ServiceBusClient, ServiceBusClientOptions, ServiceBusSender } from '@azure/service-bus';
import type { Settings } from '../config/settings';
import { validateDirective, type Directive } from '../contracts/directive';
import { directiveMessageId, directiveTopic, toDirectiveMessage } from './directive-message';
import type { DirectivePublisher } from '../ports/directive-publisher';
import { DirectivePublishError, InvalidDirectiveError } from './errors';
import { createServiceBusClient } from './service-bus-client';
import { currentCarrier } from '../telemetry/trace-context';

export interface ServiceBusDirectivePublisherOptions {
  /** The process's client; the publisher borrows it and does not close it. */
  readonly client: ServiceBusClient;
  /** `LUCIUS_SERVICEBUS_TOPIC_PREFIX`: directives go to `{topicPrefix}{lane}`. */
  readonly topicPrefix: string;
}

export class ServiceBusDirectivePublisher implements DirectivePublisher {
  private readonly client: ServiceBusClient;
  private readonly topicPrefix: string;
  private readonly senders = new Map<string, ServiceBusSender>();
  private ownsClient = false;

  constructor(options: ServiceBusDirectivePublisherOptions) {
    this.client = options.client;
    this.topicPrefix = options.topicPrefix;
  }

  /** A publisher with a client of its own, created from settings and closed by `close()`. */
  static connect(
    serviceBus: Settings['serviceBus'],
    clientOptions: ServiceBusClientOptions = {},
  ): ServiceBusDirectivePublisher {
    if (serviceBus.connection === undefined) {
      throw new RangeError(
        'directive publishing needs a Service Bus connection (ServiceBusConnection or ServiceBusConnection__fullyQualifiedNamespace)',
      );
    }
    const publisher = new ServiceBusDirectivePublisher({
      client: createServiceBusClient(serviceBus.connection, clientOptions),
      topicPrefix: serviceBus.topicPrefix,
    });
    publisher.ownsClient = true;
    return publisher;
  }

  async publish(directive: Directive): Promise<void> {
    const messageId = directiveMessageId(directive);
    const checked = validateDirective(directive);
    if (!checked.ok) throw new InvalidDirectiveError(messageId, checked.violations);
    const topic = directiveTopic(this.topicPrefix, directive);
    let sender: ServiceBusSender | undefined;
    try {
      sender = this.senderFor(topic);
      // The current span (the publishing activity's producer span) is the message's trace context.
      await sender.sendMessages(toDirectiveMessage(checked.value, currentCarrier()));
    } catch (error) {
      if (sender !== undefined) await this.drop(topic, sender);
      throw new DirectivePublishError(topic, messageId, error);
    }
  }

  async close(): Promise<void> {
    const senders = [...this.senders.values()];
    this.senders.clear();
    await Promise.allSettled(senders.map((sender) => sender.close()));
    if (this.ownsClient) await this.client.close();
  }

  private senderFor(topic: string): ServiceBusSender {
    let sender = this.senders.get(topic);
    if (sender === undefined) {
      sender = this.client.createSender(topic);
      this.senders.set(topic, sender);
    }
    return sender;
  }

  /** Forgets a sender whose send failed (unless a concurrent failure already replaced it). */
  private async drop(topic: string, sender: ServiceBusSender): Promise<void> {
    if (this.senders.get(topic) === sender) this.senders.delete(topic);
    // Closing a broken link may fail too; the publish error is what the caller needs to see.
    await sender.close().catch(() => undefined);
  }
}
