/**
 * Link addresses as @azure/service-bus writes them: `queue`, `topic`, `topic/Subscriptions/sub`,
 * `<entity>/$DeadLetterQueue`, `<entity>/$management`, `$cbs` (some clients prefix
 * `sb://host/`). Entity paths go to the broker unchanged apart from that prefix.
 */
export const CBS_ADDRESS = '$cbs';
const MANAGEMENT_SUFFIX = '/$management';

export type NodeAddress =
  | { readonly kind: 'cbs' }
  | { readonly kind: 'management'; readonly entityPath: string }
  | { readonly kind: 'entity'; readonly entityPath: string };

export function parseNodeAddress(address: string): NodeAddress {
  const path = address.replace(/^(amqps?|sb):\/\/[^/]*\//i, '').replace(/^\/+/, '');
  if (path === CBS_ADDRESS) return { kind: 'cbs' };
  if (path.toLowerCase().endsWith(MANAGEMENT_SUFFIX.toLowerCase())) {
    return { kind: 'management', entityPath: path.slice(0, -MANAGEMENT_SUFFIX.length) };
  }
  return { kind: 'entity', entityPath: path };
}
