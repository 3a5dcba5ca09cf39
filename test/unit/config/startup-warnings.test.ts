/** The composition root logs the settings warnings once, when the process's services are built. */
const ADDED = {
  LUCIUS_STORAGE_BACKEND: 'memory',
  LUCIUS_AUTH_MODE: 'none',
  LUCIUS_CALLBACK_KEY: `test:${Buffer.alloc(32, 7).toString('base64')}`,
  LUCIUS_MAX_ATEMPTS: '4',
  LUCIUS_TEMPORAL_TASK_QUEUE: 'jobs',
};
const saved = Object.fromEntries(Object.keys(ADDED).map((name) => [name, process.env[name]]));

afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  jest.restoreAllMocks();
});

describe('getServices', () => {
  it('logs each settings warning at start (the auth mode first), one line each, and only once', async () => {
    Object.assign(process.env, ADDED);
    const lines: string[] = [];
    jest.spyOn(console, 'warn').mockImplementation((line: unknown) => void lines.push(String(line)));
    await jest.isolateModulesAsync(async () => {
      const { getServices } = await import('../../../src/composition');
      expect(getServices().settings.steps.maxAttempts).toBe(3);
      getServices();
    });
    expect(lines).toEqual([
      expect.stringMatching(
        /^Lucius settings: LUCIUS_AUTH_MODE=none: every request is accepted without credentials/,
      ),
      'Lucius settings: LUCIUS_MAX_ATEMPTS is not a Lucius setting and is ignored; the closest known one is LUCIUS_MAX_ATTEMPTS',
      expect.stringMatching(
        /^Lucius settings: LUCIUS_TEMPORAL_TASK_QUEUE is a setting of the previous system and is ignored\. Temporal was replaced by Durable Functions/,
      ),
    ]);
  });
});
