/**
 * Subscription rule evaluation: a message goes to a subscription when any of its rules matches.
 * A correlation filter matches when every field and application property it names equals the
 * message's (exact, case-sensitive comparison, as on Azure).
 */
import type { IncomingMessage } from './broker-api';
import type { Filter, RuleDefinition } from './config';

export function matchesFilter(filter: Filter, message: IncomingMessage): boolean {
  if (filter.kind === 'true') return true;
  const fields: readonly [string | undefined, string | undefined][] = [
    [filter.correlationId, message.correlationId],
    [filter.messageId, message.messageId],
    [filter.to, message.to],
    [filter.replyTo, message.replyTo],
    [filter.subject, message.subject],
    [filter.contentType, message.contentType],
    [filter.sessionId, message.sessionId],
  ];
  if (fields.some(([expected, actual]) => expected !== undefined && expected !== actual)) return false;
  return Object.entries(filter.properties).every(
    ([key, expected]) =>
      Object.prototype.hasOwnProperty.call(message.applicationProperties, key) &&
      message.applicationProperties[key] === expected,
  );
}

export function matchesAnyRule(rules: readonly RuleDefinition[], message: IncomingMessage): boolean {
  return rules.some((rule) => matchesFilter(rule.filter, message));
}
