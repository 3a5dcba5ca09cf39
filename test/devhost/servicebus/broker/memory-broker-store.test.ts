import { MemoryBrokerStore } from '../../../../devhost/servicebus/broker/memory-broker-store';
import { brokerStoreContract } from './broker-store.contract';

describe('MemoryBrokerStore', () => {
  brokerStoreContract(() => new MemoryBrokerStore());
});
