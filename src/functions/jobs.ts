/** HTTP functions that read jobs. */
import { app } from '@azure/functions';
import { handleGetJob, handleGetSteps, handleListJobs } from '../http/job-handlers';
import { apiAuthLevel, secured } from './api-security';

app.http('getJob', {
  route: 'v1/jobs/{jobId}',
  methods: ['GET', 'OPTIONS'],
  authLevel: apiAuthLevel(),
  handler: secured({ action: 'read' }, handleGetJob),
});

app.http('getJobSteps', {
  route: 'v1/jobs/{jobId}/steps',
  methods: ['GET', 'OPTIONS'],
  authLevel: apiAuthLevel(),
  handler: secured({ action: 'read' }, handleGetSteps),
});

app.http('listJobs', {
  route: 'v1/jobs',
  methods: ['GET', 'OPTIONS'],
  authLevel: apiAuthLevel(),
  handler: secured({ action: 'read' }, handleListJobs),
});
