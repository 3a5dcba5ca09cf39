import type { AdmissionRecord } from '../../../src/ports/job-ledger';
import { MemoryJobLedger } from '../../../src/ledger/memory-job-ledger';
import { describeJobLedgerContract } from './job-ledger.contract';

/** A memory ledger whose next admission stops at its commit point, as a process dying there would. */
class DyingMemoryJobLedger extends MemoryJobLedger {
  private dieAtCommit = false;

  armDeathAtCommit(): void {
    this.dieAtCommit = true;
  }

  protected override commitJob(record: AdmissionRecord): void {
    if (this.dieAtCommit) {
      this.dieAtCommit = false;
      throw new Error('the process died');
    }
    super.commitJob(record);
  }
}

describeJobLedgerContract('MemoryJobLedger', async () => {
  const ledger = new DyingMemoryJobLedger();
  return {
    ledger,
    admitDyingAtCommit: async (record, limits, now) => {
      ledger.armDeathAtCommit();
      await ledger.admit(record, limits, now);
    },
  };
});
