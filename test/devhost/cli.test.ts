/**
 * devhost's command line, in process: `--help` on every command, a Service Bus port in use as one
 * line, and the operator's mistakes (a bad setting) as their message without a stack.
 */
import { createServer, type Server } from 'node:net';
import { describeFailure, main } from '../../devhost/cli';
import { DevhostError } from '../../devhost/host/errors';

async function printed(run: () => Promise<void>): Promise<string> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('devhost cli', () => {
  it.each(['start', 'up', 'run-timer', 'servicebus'])(
    'prints the usage of %s for --help',
    async (command) => {
      const out = await printed(() => main([command, '--help']));
      expect(out).toMatch(new RegExp(`^usage: devhost ${command}`));
    },
  );

  it('prints every command for --help alone, and takes -h', async () => {
    const out = await printed(() => main(['--help']));
    for (const command of ['start', 'up', 'run-timer', 'servicebus'])
      expect(out).toContain(`devhost ${command}`);
    expect(await printed(() => main(['up', '-h']))).toMatch(/^usage: devhost up/);
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

  it('describes an operator mistake by its message alone, and anything else with its stack', () => {
    const setting = Object.assign(new Error('Invalid settings (1): LUCIUS_LANE_COUNT: expected a number'), {
      name: 'SettingsError',
    });
    expect(describeFailure(setting)).toBe('Invalid settings (1): LUCIUS_LANE_COUNT: expected a number');
    expect(describeFailure(new DevhostError('port_in_use', 'port 1 is in use'))).toBe('port 1 is in use');
    const bug = new TypeError('x is undefined');
    expect(describeFailure(bug)).toContain('at ');
  });
});
