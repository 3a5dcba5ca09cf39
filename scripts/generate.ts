/**
 * `npm run generate`: writes the deployment files generated from the code, so one description feeds
 * both the app and the infrastructure (the bicep reads them with `loadJsonContent`). Each generator
 * (scripts/generators/) is a path and a function rendering the file's text; the tests render the same
 * text in memory and fail when a committed file is out of date.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { appSettingsFile } from './generators/app-settings';
import type { GeneratedFile } from './generators/generated-file';
import { alertQueriesFile, luciusWorkbookFile } from './generators/monitoring';
import { serviceBusEmulatorConfigFile } from './generators/servicebus-emulator-config';
import { serviceBusTopologyFile } from './generators/servicebus-topology';

/** Every generated file. */
export const GENERATED_FILES: readonly GeneratedFile[] = [
  appSettingsFile,
  serviceBusTopologyFile,
  serviceBusEmulatorConfigFile,
  luciusWorkbookFile,
  alertQueriesFile,
];

/** Writes every generated file under `root` (the repository); returns their paths. */
export function writeGeneratedFiles(
  root: string,
  files: readonly GeneratedFile[] = GENERATED_FILES,
): string[] {
  return files.map((file) => {
    const target = join(root, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.generate());
    return file.path;
  });
}

if (require.main === module) {
  try {
    for (const path of writeGeneratedFiles(join(__dirname, '..', '..')))
      process.stdout.write(`generated ${path}\n`);
  } catch (error) {
    process.stderr.write(`generate failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
