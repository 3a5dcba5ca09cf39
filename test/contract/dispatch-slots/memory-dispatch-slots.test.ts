/** MemoryDispatchSlots: the shared contract. */
import { MemoryDispatchSlots } from '../../../src/ledger/dispatch-slots/memory-dispatch-slots';
import { describeDispatchSlotsContract } from './dispatch-slots.contract';

describeDispatchSlotsContract('MemoryDispatchSlots', async () => new MemoryDispatchSlots());
