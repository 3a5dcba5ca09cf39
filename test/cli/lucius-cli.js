/**
 * Runs the `lucius` command line from its TypeScript sources, as `node dist/src/cli/lucius.js`
 * runs the built one, so tests start it as a real process without a build step.
 */
/* eslint-disable @typescript-eslint/no-require-imports -- plain CommonJS, started with `node` */
'use strict';
require('../devhost/fixtures/register-ts');
const process = require('node:process');

const { main } = require('../../src/cli/lucius');

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `lucius-cli: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
