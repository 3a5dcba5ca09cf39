/**
 * Worker replies: one Service Bus topic trigger per reply lane (`{replyPrefix}{lane}`, subscription
 * `{replySubscription}`, names from settings) and the HTTP callbacks. Both take the same path
 * (usecases/ingest-reply); the Service Bus edge is bus/reply-message-handler.ts, the HTTP one
 * http/reply-handlers.ts.
 */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { handleReplyMessage } from '../bus/reply-message-handler';
import { WORKER_REPLY_KINDS } from '../domain/worker-reply';
import { replyCallbackHandler } from '../http/reply-handlers';
import { messagingTopology } from '../messaging/topology';
import { apiAuthLevel, secured } from './api-security';

const { settings } = getServices();

for (const topic of messagingTopology({ ...settings.serviceBus, laneCount: settings.admission.laneCount })
  .replyTopics) {
  const source = `${topic.name}/${topic.subscription}`;
  app.serviceBusTopic(`replies-p${topic.lane}`, {
    connection: settings.serviceBus.connectionSetting,
    topicName: topic.name,
    subscriptionName: topic.subscription,
    extraInputs: [df.input.durableClient()],
    handler: (message, context) =>
      handleReplyMessage(getServices().replyMessage(context), source, message, context),
  });
}

// A callback carries the directive's callback token (Lucius-Callback-Token) or a Lucius.Worker bearer token.
for (const kind of WORKER_REPLY_KINDS) {
  app.http(`${kind}Reply`, {
    route: `v1/jobs/{jobId}/steps/{stepId}/${kind}`,
    methods: ['POST', 'OPTIONS'],
    authLevel: apiAuthLevel(),
    extraInputs: [df.input.durableClient()],
    handler: secured({ action: 'worker', callbackToken: true }, replyCallbackHandler(kind)),
  });
}
