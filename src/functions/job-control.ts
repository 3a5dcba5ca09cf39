/** HTTP functions that act on a job: cancel, redrive and delete. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { getServices } from '../composition';
import { handleCancelJob, handleRedriveJob } from '../http/control-handlers';
import { handleDeleteJob } from '../http/delete-job-handler';

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

app.http('deleteJob', {
  route: 'v1/jobs/{jobId}',
  methods: ['DELETE'],
  authLevel: 'function',
  extraInputs: [df.input.durableClient()],
  handler: (request, context) => handleDeleteJob(getServices(), request, context),
});
