import { MemoryShardLeases } from '../../../src/ledger/memory-shard-leases';
import { describeShardLeasesContract } from './shard-leases.contract';

describeShardLeasesContract('MemoryShardLeases', async () => new MemoryShardLeases());
