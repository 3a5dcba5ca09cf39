# Lucius as a container on Microsoft's Azure Functions Node base image (Functions host v4, Node 22),
# built the way `func init --docker` lays it out: the app in /home/site/wwwroot, compiled inside the
# image. docker-compose.yml runs it with Azurite and the Service Bus emulator. Not exercised in CI.
FROM mcr.microsoft.com/azure-functions/node:4-node22

ENV AzureWebJobsScriptRoot=/home/site/wwwroot \
    AzureFunctionsJobHost__Logging__Console__IsEnabled=true

COPY . /home/site/wwwroot

RUN cd /home/site/wwwroot && \
    npm ci && \
    npm run build && \
    npm prune --omit=dev
