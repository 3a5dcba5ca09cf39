/**
 * devhost's command line, in process: `--help` on every command, a Service Bus port in use as one
 * line, `servicebus` without a Config.json refused, and the operator's mistakes as their message
 * without a stack.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../devhost/cli';
import { DevhostError } from '../../devhost/common/errors';
import { describeFailure } from '../../devhost/launch';
import { printed } from '../support/capture-stdout';

describe('devhost cli', () => {
  it.each(['start', 'run-timer', 'servicebus'])('prints the usage of %s for --help', async (command) => {
    const out = await printed(() => main([command, '--help']));
    expect(out).toMatch(new RegExp(`^usage: devhost ${command}`));
  });

  it('prints every command for --help alone, and takes -h', async () => {
    const out = await printed(() => main(['--help']));
    for (const command of ['start', 'run-timer', 'servicebus']) expect(out).toContain(`devhost ${command}`);
    expect(out).not.toContain('devhost up');
    expect(await printed(() => main(['start', '-h']))).toMatch(/^usage: devhost start/);
  });

  it('refuses servicebus without a Config.json, and up (a launcher command)', async () => {
    await expect(main(['servicebus'])).rejects.toThrow(
      /^servicebus needs --config FILE\nusage: devhost servicebus/,
    );
    await expect(main(['up'])).rejects.toThrow(/^unknown command "up"/);
  });

  it('reports a Service Bus port in use in one line naming the flag', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'devhost-cli-'));
    const config = join(dir, 'Config.json');
    writeFileSync(
      config,
      JSON.stringify({
        UserConfig: {
          Namespaces: [{ Name: 'sbemulatorns', Queues: [{ Name: 'q1' }] }],
          Logging: { Type: 'File' },
        },
      }),
    );
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const failure = main(['servicebus', '--config', config, '--port', String(port)]);
      await expect(failure).rejects.toBeInstanceOf(DevhostError);
      await expect(failure).rejects.toThrow(
        `the Service Bus port ${port} is already in use on 127.0.0.1; choose another with --port`,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('describes an operator mistake by its message alone, and anything else with its stack', () => {
    expect(describeFailure(new DevhostError('port_in_use', 'port 1 is in use'))).toBe('port 1 is in use');
    const named = Object.assign(new Error('a bad setting'), { name: 'SettingsError' });
    expect(describeFailure(named, ['SettingsError'])).toBe('a bad setting');
    expect(describeFailure(named)).toContain('at ');
    const bug = new TypeError('x is undefined');
    expect(describeFailure(bug)).toContain('at ');
  });
});
