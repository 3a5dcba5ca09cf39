/** HTTP functions that read jobs. */
import { app } from '@azure/functions';
import { getServices } from '../composition';
import { handleGetJob, handleGetSteps, handleListJobs } from '../http/job-handlers';

app.http('getJob', {
  route: 'v1/jobs/{jobId}',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request, context) => handleGetJob(getServices(), request, context),
});

app.http('getJobSteps', {
  route: 'v1/jobs/{jobId}/steps',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request, context) => handleGetSteps(getServices(), request, context),
});

app.http('listJobs', {
  route: 'v1/jobs',
  methods: ['GET'],
  authLevel: 'function',
  handler: (request, context) => handleListJobs(getServices(), request, context),
});
