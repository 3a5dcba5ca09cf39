import { clientBindingData } from '../../../../devhost/durable/http-api';

describe('clientBindingData', () => {
  it('carries the task hub, an RPC base ending in a slash and the extension URL templates', () => {
    const data = clientBindingData({
      baseUrl: 'http://127.0.0.1:7072/',
      taskHub: 'Hub1',
      connectionName: 'Conn',
    });
    expect(data).toEqual({
      taskHubName: 'Hub1',
      baseUrl: 'http://127.0.0.1:7072/runtime/webhooks/durabletask',
      requiredQueryStringParameters: '',
      rpcBaseUrl: 'http://127.0.0.1:7072/durabletask/',
      creationUrls: {
        createNewInstancePostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]',
        createAndWaitOnNewInstancePostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}',
      },
      managementUrls: {
        id: 'INSTANCEID',
        statusQueryGetUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=Hub1&connection=Conn',
        sendEventPostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID/raiseEvent/{eventName}?taskHub=Hub1&connection=Conn',
        terminatePostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID/terminate?reason={text}&taskHub=Hub1&connection=Conn',
        rewindPostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID/rewind?reason={text}&taskHub=Hub1&connection=Conn',
        purgeHistoryDeleteUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID?taskHub=Hub1&connection=Conn',
        restartPostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID/restart?taskHub=Hub1&connection=Conn',
        suspendPostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID/suspend?reason={text}&taskHub=Hub1&connection=Conn',
        resumePostUri:
          'http://127.0.0.1:7072/runtime/webhooks/durabletask/instances/INSTANCEID/resume?reason={text}&taskHub=Hub1&connection=Conn',
      },
    });
  });

  it('defaults the connection name to Storage, as the extension does', () => {
    const data = clientBindingData({ baseUrl: 'http://localhost:7071', taskHub: 'H' });
    expect(data.managementUrls.statusQueryGetUri).toContain('taskHub=H&connection=Storage');
  });
});
