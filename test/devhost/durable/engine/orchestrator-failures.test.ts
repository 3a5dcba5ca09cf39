/**
 * How a failed orchestration reads, as on Azure: the extension reports
 * `Orchestrator function 'X' failed: <the error's message>`, taking the message from the state the
 * SDK serializes after `$OutOfProcData$` (durable-functions' own error text there is "false").
 */
import { createTestDurableEnvironment } from '../../../../devhost/durable/engine';
import { loadFidelityApp } from './load-fidelity-app';

describe('durable engine: orchestrator failures', () => {
  it("reports the orchestrator's own error after an activity failed", async () => {
    const { registrations } = loadFidelityApp();
    const env = createTestDurableEnvironment({ registrations });
    try {
      await env.engine.start('throwsAfterActivityFailed', { instanceId: 'own-error' });
      const status = await env.waitForCompletion('own-error');
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.output).toBe(
        "Orchestrator function 'throwsAfterActivityFailed' failed: gave up after: " +
          "Activity function 'explode' failed: kaput: caught ",
      );
    } finally {
      await env.stop();
    }
  });

  it("reports an unhandled activity failure with the activity's message", async () => {
    const { registrations } = loadFidelityApp();
    const env = createTestDurableEnvironment({ registrations });
    try {
      await env.engine.start('failsWithActivity', { instanceId: 'unhandled' });
      const status = await env.waitForCompletion('unhandled');
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.output).toMatch(
        /^Orchestrator function 'failsWithActivity' failed: Activity function 'explode' failed: kaput: unhandled \n Error: kaput: unhandled\n/,
      );
    } finally {
      await env.stop();
    }
  });

  it('reports why a disabled activity failed', async () => {
    const { registrations } = loadFidelityApp(['disabledStep']);
    const env = createTestDurableEnvironment({ registrations });
    try {
      await env.engine.start('callsDisabled', { instanceId: 'disabled' });
      const status = await env.waitForCompletion('disabled');
      expect(status.runtimeStatus).toBe('Failed');
      expect(status.output).toMatch(
        /^Orchestrator function 'callsDisabled' failed: Activity function 'disabledStep' failed: The function 'disabledStep' doesn't exist, is disabled, or is not an activity function\./,
      );
      expect(String(status.output)).not.toContain('failed: false');
    } finally {
      await env.stop();
    }
  });
});
