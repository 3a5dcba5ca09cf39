/**
 * Lucius's launcher command line, in process: `--help` on every command, a Service Bus port in use
 * as one line naming the flag, and Lucius's operator mistakes (a bad setting, a bad worker spec) as
 * their message without a stack.
 */
import { createServer, type Server } from 'node:net';
import { DevhostError } from '../../devhost/common/errors';
import { describeFailure } from '../../devhost/launch';
import { main, OPERATOR_ERRORS } from '../../launcher/cli';
import { printed } from '../support/capture-stdout';

describe('launcher cli', () => {
  it.each(['up', 'servicebus'])('prints the usage of %s for --help', async (command) => {
    const out = await printed(() => main([command, '--help']));
    expect(out).toMatch(new RegExp(`^usage: launcher ${command}`));
  });

  it('prints every command for --help alone, and takes -h', async () => {
    const out = await printed(() => main(['--help']));
    for (const command of ['up', 'servicebus']) expect(out).toContain(`launcher ${command}`);
    expect(await printed(() => main(['up', '-h']))).toMatch(/^usage: launcher up/);
  });

  it('refuses a bad worker spec before anything starts', async () => {
    await expect(main(['up', '--workers', 'OCR=nonsense'])).rejects.toThrow(/^demo workers: /);
  });

  it('reports a Service Bus port in use in one line naming the flag', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as { port: number };
    try {
      const failure = main(['servicebus', '--port', String(port)]);
      await expect(failure).rejects.toBeInstanceOf(DevhostError);
      await expect(failure).rejects.toThrow(
        `the Service Bus port ${port} is already in use on 127.0.0.1; choose another with --port`,
      );
    } finally {
      await new Promise<void>((resolve) => blocker.close(() => resolve()));
    }
  });

  it("describes Lucius's operator mistakes by their message alone, and anything else with its stack", () => {
    const setting = Object.assign(new Error('Invalid settings (1): LUCIUS_LANE_COUNT: expected a number'), {
      name: 'SettingsError',
    });
    expect(describeFailure(setting, OPERATOR_ERRORS)).toBe(
      'Invalid settings (1): LUCIUS_LANE_COUNT: expected a number',
    );
    expect(describeFailure(new DevhostError('port_in_use', 'port 1 is in use'), OPERATOR_ERRORS)).toBe(
      'port 1 is in use',
    );
    expect(describeFailure(new TypeError('x is undefined'), OPERATOR_ERRORS)).toContain('at ');
  });
});
