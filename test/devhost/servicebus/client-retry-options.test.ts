/**
 * host.json `extensions.serviceBus.clientRetryOptions`, read as the Service Bus extension reads it
 * (TimeSpans, mode names ignoring case, the SDK's defaults and limits), and handed to
 * `@azure/service-bus` by the triggers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RetryMode } from '@azure/service-bus';
import { DEFAULT_CLIENT_RETRY_OPTIONS, readHostConfig } from '../../../devhost/common/host-config';
import { sdkRetryOptions } from '../../../devhost/servicebus/triggers/service-bus-listeners';

const scratch = mkdtempSync(join(tmpdir(), 'devhost-retry-options-'));

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function retryOptionsOf(clientRetryOptions: unknown) {
  writeFileSync(
    join(scratch, 'host.json'),
    JSON.stringify({ version: '2.0', extensions: { serviceBus: { clientRetryOptions } } }),
  );
  return readHostConfig(scratch, {}).serviceBus.clientRetryOptions;
}

describe('clientRetryOptions', () => {
  it("defaults to the SDK's: exponential, 0.8 s delay, 1 min max delay, 3 retries, 1 min try timeout", () => {
    expect(retryOptionsOf(undefined)).toEqual({
      mode: 'exponential',
      delayMs: 800,
      maxDelayMs: 60_000,
      maxRetries: 3,
      tryTimeoutMs: 60_000,
    });
    expect(readHostConfig(join(scratch, 'no-such-app'), {}).serviceBus.clientRetryOptions).toEqual(
      DEFAULT_CLIENT_RETRY_OPTIONS,
    );
  });

  it('reads every property, TimeSpans with fractions and days, the mode ignoring case', () => {
    expect(
      retryOptionsOf({
        mode: 'Fixed',
        tryTimeout: '00:00:30',
        delay: '00:00:00.250',
        maxDelay: '00:02:00',
        maxRetries: 0,
      }),
    ).toEqual({ mode: 'fixed', tryTimeoutMs: 30_000, delayMs: 250, maxDelayMs: 120_000, maxRetries: 0 });
    expect(retryOptionsOf({ mode: 'exponential', maxDelay: '0.00:04:00' })).toMatchObject({
      mode: 'exponential',
      maxDelayMs: 240_000,
      delayMs: 800,
    });
  });

  it('keeps the defaults for the properties it does not set', () => {
    expect(retryOptionsOf({ maxRetries: 10 })).toEqual({ ...DEFAULT_CLIENT_RETRY_OPTIONS, maxRetries: 10 });
  });

  it.each([
    [{ mode: 'Linear' }, /clientRetryOptions\.mode must be Exponential or Fixed \(got "Linear"\)/],
    [{ maxRetries: -1 }, /clientRetryOptions\.maxRetries must be an integer from 0 to 100/],
    [{ maxRetries: 101 }, /maxRetries must be an integer from 0 to 100 \(got 101\)/],
    [{ maxRetries: '3' }, /maxRetries must be an integer/],
    [{ delay: '800ms' }, /clientRetryOptions\.delay must be a TimeSpan such as "00:05:00"/],
    [{ delay: 800 }, /clientRetryOptions\.delay must be a TimeSpan/],
    [{ tryTimeout: '00:99:00' }, /clientRetryOptions\.tryTimeout must be a TimeSpan/],
    [{ delay: '00:00:00' }, /delay must be from 1 ms to 00:05:00/],
    [{ delay: '00:06:00', maxDelay: '00:10:00' }, /delay must be from 1 ms to 00:05:00/],
    [{ delay: '00:00:10', maxDelay: '00:00:05' }, /maxDelay must not be shorter than delay/],
    [{ tryTimeout: '00:00:00' }, /tryTimeout must be longer than zero and at most 01:00:00/],
    [{ tryTimeout: '02:00:00' }, /tryTimeout must be longer than zero and at most 01:00:00/],
    ['fast', /clientRetryOptions must be an object/],
  ])('refuses %j, naming the property', (options, message) => {
    expect(() => retryOptionsOf(options)).toThrow(message);
  });

  it('is what the triggers give @azure/service-bus', () => {
    expect(sdkRetryOptions(DEFAULT_CLIENT_RETRY_OPTIONS)).toEqual({
      mode: RetryMode.Exponential,
      retryDelayInMs: 800,
      maxRetryDelayInMs: 60_000,
      maxRetries: 3,
      timeoutInMs: 60_000,
    });
    expect(
      sdkRetryOptions({ mode: 'fixed', tryTimeoutMs: 5_000, delayMs: 250, maxDelayMs: 1_000, maxRetries: 7 }),
    ).toEqual({
      mode: RetryMode.Fixed,
      retryDelayInMs: 250,
      maxRetryDelayInMs: 1_000,
      maxRetries: 7,
      timeoutInMs: 5_000,
    });
  });
});
