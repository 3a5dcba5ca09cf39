/** HTTP functions that act on a job: cancel, redrive and delete. */
import { app } from '@azure/functions';
import * as df from 'durable-functions';
import { handleCancelJob, handleRedriveJob } from '../http/control-handlers';
import { handleDeleteJob } from '../http/delete-job-handler';
import { apiAuthLevel, secured } from './api-security';

app.http('cancelJob', {
  route: 'v1/jobs/{jobId}/cancel',
  methods: ['POST', 'OPTIONS'],
  authLevel: apiAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: secured({ action: 'operate' }, handleCancelJob),
});

app.http('redriveJob', {
  route: 'v1/jobs/{jobId}/redrive',
  methods: ['POST', 'OPTIONS'],
  authLevel: apiAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: secured({ action: 'operate' }, handleRedriveJob),
});

// OPTIONS of this route is getJob's (one function per route and method).
app.http('deleteJob', {
  route: 'v1/jobs/{jobId}',
  methods: ['DELETE'],
  authLevel: apiAuthLevel(),
  extraInputs: [df.input.durableClient()],
  handler: secured({ action: 'operate' }, handleDeleteJob),
});
