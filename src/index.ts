/**
 * The function app's entry (package.json `main`). Settings and the protocol registry are loaded
 * while the app loads, so a bad setting or registry stops start-up with a message naming the
 * problem instead of failing the first request. The authenticator is prepared at once too (the dev
 * issuer's key, the Entra trust), so a problem with it shows in the log at start-up.
 */
import { app } from '@azure/functions';
import { getServices } from './composition';
import './functions/commands';
import './functions/jobs';
import './functions/job-control';
import './functions/replies';
import './functions/orchestration';
import './functions/health';
import './functions/dev-jwks';
import './functions/sweepers';

getServices()
  .security.authenticator()
  .catch((error: unknown) =>
    console.error(
      `Lucius: the authenticator could not be prepared; requests answer 503 auth_unavailable until it can: ${error instanceof Error ? error.message : String(error)}`,
    ),
  );

// The process's Service Bus client (publisher and quarantine) is closed when the host stops the app.
app.hook.appTerminate(() => getServices().close());
