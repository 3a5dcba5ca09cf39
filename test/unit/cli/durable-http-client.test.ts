/**
 * The client data the CLI gives the durable-functions client: the public webhook API, with the
 * system key as `code` on every URL, and no internal RPC base.
 */
import { webhookClientData } from '../../../src/cli/durable-http-client';

describe('webhookClientData', () => {
  it('addresses the public HTTP API with the task hub and the system key on every URL', () => {
    const data = webhookClientData(
      { url: 'https://app.example.net/runtime/webhooks/durabletask/', key: 'k/ey' },
      'Lucius',
    );
    expect(data).not.toHaveProperty('rpcBaseUrl');
    expect(data['baseUrl']).toBe('https://app.example.net/runtime/webhooks/durabletask');
    const urls = [
      ...Object.values(data['creationUrls'] as Record<string, string>),
      ...Object.values(data['managementUrls'] as Record<string, string>).filter((u) =>
        u.startsWith('https:'),
      ),
    ];
    expect(urls.length).toBeGreaterThan(8);
    for (const url of urls) expect(url).toMatch(/[?&]taskHub=Lucius&connection=Storage&code=k%2Fey$/);
    expect((data['managementUrls'] as Record<string, string>)['sendEventPostUri']).toBe(
      'https://app.example.net/runtime/webhooks/durabletask/instances/INSTANCEID/raiseEvent/{eventName}?taskHub=Lucius&connection=Storage&code=k%2Fey',
    );
  });

  it('sends no code without a key (a local host)', () => {
    const data = webhookClientData({ url: 'http://127.0.0.1:7071/runtime/webhooks/durabletask' }, 'Hub');
    expect(JSON.stringify(data)).not.toContain('code=');
    expect(data['requiredQueryStringParameters']).toBe('');
  });
});
