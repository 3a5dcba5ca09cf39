/**
 * Worker replies: one Service Bus topic trigger per reply lane (`{replyPrefix}{lane}`, subscription
 * `{replySubscription}`, names from settings) and the HTTP callbacks. Both take the same path
 * (usecases/ingest-reply).
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { handleReplyCallback, replyTimings } from '../http/reply-handlers';
import { handleReplyMessage } from '../messaging/reply-message-handler';
import { WORKER_REPLY_KINDS } from '../messaging/reply-decoder';
import { messagingTopology } from '../messaging/topology';

const { settings } = getServices();

for (const topic of messagingTopology({ ...settings.serviceBus, laneCount: settings.admission.laneCount })
  .replyTopics) {
  const source = `${topic.name}/${topic.subscription}`;
  app.serviceBusTopic(`replies-p${topic.lane}`, {
    connection: 'ServiceBusConnection',
    topicName: topic.name,
    subscriptionName: topic.subscription,
    extraInputs: [df.input.durableClient()],
    handler: (message, context) => {
      const services = getServices();
      return handleReplyMessage(
        {
          ledger: services.ledger,
          clock: services.clock,
          timings: replyTimings(services),
          signals: services.signalsFor(context),
          quarantine: services.quarantine,
        },
        source,
        message,
        context,
      );
    },
  });
}

for (const kind of WORKER_REPLY_KINDS) {
  app.http(`${kind}Reply`, {
    route: `v1/jobs/{jobId}/steps/{stepId}/${kind}`,
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: (request, context) => handleReplyCallback(kind, getServices(), request, context),
  });
}
