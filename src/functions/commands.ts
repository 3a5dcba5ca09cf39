/** HTTP functions that accept commands. Both routes behave the same (`orchestrate` is the older name). */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { handleAdmitCommand } from '../http/command-handlers';

for (const [name, route] of [
  ['submitCommand', 'v1/commands'],
  ['orchestrate', 'v1/orchestrate'],
] as const) {
  app.http(name, {
    route,
    methods: ['POST'],
    authLevel: 'function',
    extraInputs: [df.input.durableClient()],
    handler: (request, context) => handleAdmitCommand(getServices(), request, context),
  });
}
