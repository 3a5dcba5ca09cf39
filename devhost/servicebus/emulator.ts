/**
 * The Service Bus emulator as one unit: a broker over its entities (from a Config.json-shaped
 * configuration, validated at start-up) and the AMQP 1.0 server the `@azure/service-bus` SDK talks
 * to. Messages are kept in memory, or under `dataDir` (a journal and snapshot) so they survive a
 * restart when devhost keeps its data.
 */
import { readFileSync } from 'node:fs';
import { startServiceBusServer } from './amqp/server';
import { createBroker } from './broker/broker';
import { systemClock } from './broker/clock';
import { parseEmulatorConfig, type EmulatorConfig } from './broker/config';
import { FileBrokerStore } from './broker/file-broker-store';
import { parseSettings } from '../../src/config/settings';
import { luciusTopology } from './broker/lucius-topology';

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

/**
 * Lucius's topology from its own settings (parsed by the app's settings code, so a bad lane count or
 * entity prefix stops start-up with the variable named), through the description the app uses.
 */
export function luciusEmulatorConfig(env: NodeJS.ProcessEnv): EmulatorConfig {
  // Only the messaging settings matter here; storage is checked when the app itself loads.
  const settings = parseSettings({ ...env, LUCIUS_STORAGE_BACKEND: 'memory' });
  return luciusTopology({ ...settings.serviceBus, laneCount: settings.admission.laneCount });
}
