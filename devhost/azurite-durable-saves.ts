/**
 * Makes Azurite's Table service save to disk before it answers a write.
 *
 * Azurite 3.35 keeps its tables in LokiJS with `autosave` every 5 s (LokiTableMetadataStore), and no
 * setting changes that, so a write it acknowledged can vanish when the process is killed. devhost
 * therefore starts Azurite's own entry (`azurite/dist/src/table/main.js`) through a small preamble
 * that wraps the store's write methods: once a write has changed the in-memory database, the method
 * waits for `db.saveDatabase()` (LokiJS writes a temporary file, then renames it over the old one)
 * before it returns, and Azurite's handler answers only after that. LokiJS's throttled saves
 * coalesce writes that arrive during a save into the next one (a group commit), so concurrent
 * writes share a save. Operations inside a batch are saved once, when the batch ends.
 *
 * The file reaches the page cache before the answer, so it survives a killed process; it is not
 * fsynced, so a power loss can still lose the last writes.
 *
 * The preamble is JavaScript source (`node -e`), so it runs the same from devhost's TypeScript
 * sources and from `dist/`.
 */

/** Writes that are saved before they are answered (no batch id: each is its own commit). */
const ALWAYS_SAVED = [
  'createTable',
  'deleteTable',
  'setTableACL',
  'setServiceProperties',
  'endBatchTransaction',
] as const;

/** Entity writes; their last parameter is the batch id, set when the write is part of a batch. */
const SAVED_UNLESS_BATCHED = [
  'insertTableEntity',
  'insertOrUpdateTableEntity',
  'insertOrMergeTableEntity',
  'updateTableEntity',
  'mergeTableEntity',
  'deleteTableEntity',
] as const;

/**
 * The `node -e` program: run with `process.argv[1]` = Azurite's table `main.js` and the rest its
 * arguments. `storeModule` is the path of Azurite's LokiTableMetadataStore module.
 */
export function durableSavesProgram(storeModule: string): string {
  return `'use strict';
const Store = require(${JSON.stringify(storeModule)}).default;
const saveNow = (store) =>
  new Promise((resolve, reject) => store.db.saveDatabase((error) => (error ? reject(error) : resolve())));
const wrap = (name, batched) => {
  const write = Store.prototype[name];
  if (typeof write !== 'function') throw new Error('devhost: Azurite has no LokiTableMetadataStore.' + name);
  Store.prototype[name] = async function (...args) {
    const result = await write.apply(this, args);
    if (!batched(args, write)) await saveNow(this);
    return result;
  };
};
for (const name of ${JSON.stringify(ALWAYS_SAVED)}) wrap(name, () => false);
for (const name of ${JSON.stringify(SAVED_UNLESS_BATCHED)})
  wrap(name, (args, write) => Boolean(args[write.length - 1]));
require(process.argv[1]);
`;
}
