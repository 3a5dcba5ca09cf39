import { MemoryJobLedger } from '../../../src/ledger/memory-job-ledger';
import { describeJobLedgerContract } from './job-ledger.contract';

describeJobLedgerContract('MemoryJobLedger', async () => new MemoryJobLedger());
