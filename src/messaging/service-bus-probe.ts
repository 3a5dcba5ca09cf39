/**
 * DependencyProbe for Service Bus: peeks one message of the quarantine queue
 * (`LUCIUS_SERVICEBUS_QUARANTINE_QUEUE`). A peek takes nothing and changes nothing, needs only the
 * right to listen (the `Azure Service Bus Data Receiver` role with a managed identity, or a `Listen`
 * rule in a connection string; no management rights), opens the AMQP connection the app's sender
 * and triggers use, and proves that the namespace answers and the topology exists (a missing queue
 * fails as `MessagingEntityNotFound`). It works the same on Azure and on devhost's emulator.
 *
 * One receiver, created on first use; a receiver whose peek failed or was abandoned at the timeout
 * is dropped, so the next probe opens a fresh link. Failures are the SDK's errors, rethrown (their
 * `code`, e.g. `ServiceCommunicationProblem`, names what went wrong).
 */
import type { ServiceBusClient, ServiceBusReceiver } from '@azure/service-bus';
import type { DependencyProbe } from '../ports/dependency-probe';

export class ServiceBusProbe implements DependencyProbe {
  private receiver: ServiceBusReceiver | undefined;

  constructor(
    private readonly client: () => ServiceBusClient,
    private readonly queue: string,
  ) {}

  get target(): string {
    return this.queue;
  }

  async probe(signal: AbortSignal): Promise<void> {
    try {
      this.receiver ??= this.client().createReceiver(this.queue);
      await this.receiver.peekMessages(1, { abortSignal: signal });
    } catch (error) {
      const broken = this.receiver;
      this.receiver = undefined;
      await broken?.close().catch(() => undefined);
      throw error;
    }
  }
}
