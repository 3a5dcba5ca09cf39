/**
 * The Service Bus emulator as one unit: a broker over its entities (from a Config.json-shaped
 * configuration, validated at start-up) and the AMQP 1.0 server the `@azure/service-bus` SDK talks
 * to. Messages are kept in memory, or under `dataDir` (a journal and snapshot) so they survive a
 * restart when devhost keeps its data.
 */
import { readFileSync } from 'node:fs';
import { startServiceBusServer } from './amqp/server';
import { createBroker } from './broker/broker';
import { systemClock } from '../common/clock';
import { parseEmulatorConfig, type EmulatorConfig } from './broker/config';
import { FileBrokerStore } from './broker/file-broker-store';

export interface ServiceBusEmulatorOptions {
  /** A Config.json document (already parsed). */
  readonly config: EmulatorConfig | unknown;
  /** Keep messages under this folder; in memory when absent. */
  readonly dataDir?: string;
  /** 0 = a free port; default 5672, the AMQP port the SDK uses when the endpoint names none. */
  readonly port?: number;
}

export interface ServiceBusEmulator {
  readonly port: number;
  readonly connectionString: string;
  stop(): Promise<void>;
}

export const DEFAULT_AMQP_PORT = 5672;

export async function startServiceBusEmulator(
  options: ServiceBusEmulatorOptions,
): Promise<ServiceBusEmulator> {
  const topology = parseEmulatorConfig(options.config);
  const store = options.dataDir === undefined ? undefined : FileBrokerStore.open(options.dataDir);
  const broker = createBroker({ topology, clock: systemClock, ...(store === undefined ? {} : { store }) });
  let server;
  try {
    server = await startServiceBusServer({ broker, port: options.port ?? DEFAULT_AMQP_PORT });
  } catch (error) {
    broker.close();
    throw error;
  }
  const running = server;
  return {
    port: running.port,
    connectionString: running.connectionString,
    stop: async () => {
      await running.stop();
      broker.close();
    },
  };
}

/** Reads a Config.json file. */
export function readEmulatorConfig(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8')) as unknown;
}
