/**
 * The function app's entry (package.json `main`). Settings and the protocol registry are loaded
 * while the app loads, so a bad setting or registry stops start-up with a message naming the
 * problem instead of failing the first request.
 */
import { app } from '@azure/functions';
import { getServices } from './composition';
import './functions/commands';
import './functions/jobs';
import './functions/job-control';
import './functions/replies';
import './functions/orchestration';
import './functions/health';
import './functions/sweepers';

getServices();

// The process's Service Bus client (publisher and quarantine) is closed when the host stops the app.
app.hook.appTerminate(() => getServices().close());
