/**
 * The `$cbs` node (AMQP claims-based security). @azure/core-amqp's CbsClient sends `put-token`
 * requests (application properties operation/name/type, the token as body) and accepts a response
 * whose `status-code` application property is 2xx, correlated by `correlation_id`. devhost does
 * not check tokens: every put-token is answered 202 Accepted, as the official emulator does.
 */
import type { AmqpMessage } from './message-codec';

export function handleCbsRequest(request: AmqpMessage): AmqpMessage {
  const properties = (request['application_properties'] ?? {}) as Record<string, unknown>;
  const accepted = properties['operation'] === 'put-token';
  return {
    correlation_id: request['message_id'],
    application_properties: accepted
      ? { 'status-code': 202, 'status-description': 'Accepted' }
      : {
          'status-code': 501,
          'status-description': `The $cbs operation '${String(properties['operation'])}' is not supported.`,
          'error-condition': 'amqp:not-implemented',
        },
  };
}
