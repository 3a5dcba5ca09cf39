/**
 * The function app's entry (package.json `main`). Settings and the protocol registry are loaded
 * while the app loads, so a bad setting or registry stops start-up with a message naming the
 * problem instead of failing the first request.
 */
import { getServices } from './composition';
import './functions/commands';
import './functions/jobs';
import './functions/job-control';
import './functions/replies';
import './functions/orchestration';
import './functions/health';

getServices();
