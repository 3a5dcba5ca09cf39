/** HTTP functions that act on a job: cancel and redrive. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { handleCancelJob, handleRedriveJob } from '../http/control-handlers';

app.http('cancelJob', {
  route: 'v1/jobs/{jobId}/cancel',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request, context) => handleCancelJob(getServices(), request, context),
});

app.http('redriveJob', {
  route: 'v1/jobs/{jobId}/redrive',
  methods: ['POST'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request, context) => handleRedriveJob(getServices(), request, context),
});
