/** HTTP functions that accept commands. Both routes behave the same (`orchestrate` is the older name). */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { handleAdmitCommand } from '../http/command-handlers';
import { apiAuthLevel, secured } from './api-security';

for (const [name, route] of [
  ['submitCommand', 'v1/commands'],
  ['orchestrate', 'v1/orchestrate'],
] as const) {
  app.http(name, {
    route,
    methods: ['POST', 'OPTIONS'],
    authLevel: apiAuthLevel(),
    extraInputs: [df.input.durableClient()],
    handler: secured({ action: 'submit' }, handleAdmitCommand),
  });
}
