/**
 * Makes Azurite's Table service keep every write it has answered, at a cost that does not grow
 * with the data: a write-ahead journal beside Azurite's database file.
 *
 * Azurite 3.35 keeps its tables in LokiJS (LokiTableMetadataStore) and saves the whole database
 * every 5 s, so a write it acknowledged can vanish when the process is killed; saving the whole
 * file before each answer fixes that but costs O(all data) per write. devhost instead starts
 * Azurite's own entry (`azurite/dist/src/table/main.js`) through a small preamble that:
 *
 * - records every change LokiJS makes to Azurite's database (document put/removed, collection
 *   added/dropped), hooked on LokiJS's Collection and Loki prototypes so the record is taken at the
 *   moment of the change, in memory order. The changes of one store call (an update is a remove
 *   plus an insert; creating a table is a registry row plus a collection) form one journal line,
 *   so a line is all or nothing;
 * - appends the lines to `<database file>.journal.<n>`, one append for everything recorded while
 *   the previous append was running (a group commit), and lets Azurite answer a write, or a read
 *   that may show one, only once the append has completed;
 * - holds back the changes of a batch transaction and journals the batch as one line when
 *   Azurite ends it (the then-current state of every row it touched, so concurrent writes to the
 *   same rows keep their order); a full save waits while a batch is open, so no saved database
 *   holds half a batch;
 * - on a full save (Azurite's own, every 5 s), starts a new journal file at the moment LokiJS
 *   takes its snapshot and deletes the older files once the save has completed (LokiJS writes a
 *   temporary file and renames it over the database), so the journal holds only recent writes;
 * - at start-up, after Azurite has loaded its database and before it serves, replays the journal
 *   files in order, saves the database and deletes them.
 *
 * Every journal entry sets a row (or a collection) to the state it had when the entry was taken,
 * so replaying a journal over a database saved after some of its entries gives the same result:
 * a crash during start-up, or between a save and the deletion of the old journal, is safe. A line
 * cut short by a crash (no trailing newline) was never acknowledged and is ignored. If an append
 * fails, every later write fails too rather than be answered without being kept.
 *
 * The data reaches the page cache before the answer, so it survives a killed process; it is not
 * fsynced, so a power loss can still lose the last writes.
 *
 * The preamble is JavaScript source (`node -e`), so it runs the same from devhost's TypeScript
 * sources and from `dist/`.
 */

export interface JournalProgramOptions {
  /** Path of Azurite's LokiTableMetadataStore module (its `lokijs` is the one patched). */
  readonly storeModule: string;
  /** How often Azurite saves the whole database; absent: Azurite's own 5 s. */
  readonly fullSaveIntervalMs?: number;
}

/** What the program writes to stderr right before it replays a journal at start-up. */
export const REPLAY_MESSAGE = 'devhost: replaying the Azurite journal';

/** Journal files: `<database file>` + this + a sequence number. */
export const JOURNAL_INFIX = '.journal.';

/**
 * The `node -e` program: run with `process.argv[1]` = Azurite's table `main.js` and the rest its
 * arguments (with `--location`).
 */
export function journalProgram(options: JournalProgramOptions): string {
  const config = JSON.stringify({
    storeModule: options.storeModule,
    fullSaveIntervalMs: options.fullSaveIntervalMs ?? null,
    replayMessage: REPLAY_MESSAGE,
    journalInfix: JOURNAL_INFIX,
  });
  return `'use strict';
const config = ${config};
${PROGRAM}`;
}

const PROGRAM = String.raw`
const fsp = require('node:fs/promises');
const path = require('node:path');
const Store = require(config.storeModule).default;
const Loki = require(require.resolve('lokijs', { paths: [path.dirname(config.storeModule)] }));
const Collection = Loki.Collection;
const unsupported = (what) => {
  throw new Error('devhost: the Azurite journal is written for Azurite 3.35 and LokiJS 1.5; here ' + what);
};
if (typeof Collection !== 'function') unsupported('lokijs has no Collection');

// Azurite's registries are keyed by other fields than its table rows.
const KEY_FIELDS = { '$TABLES_COLLECTION$': ['account', 'table'], '$SERVICES_COLLECTION$': ['accountName'] };
const ROW_KEY_FIELDS = ['PartitionKey', 'RowKey'];
const keyFields = (collection) => KEY_FIELDS[collection] || ROW_KEY_FIELDS;
const keyOf = (collection, doc) => keyFields(collection).map((field) => doc[field]);
const keyQuery = (collection, key) => {
  const query = {};
  keyFields(collection).forEach((field, i) => (query[field] = key[i]));
  return query;
};
const stored = (doc) => {
  const { $loki, meta, ...fields } = doc;
  return fields;
};
const putOp = (collection, doc) => JSON.stringify(['put', collection, stored(doc)]);
const delOp = (collection, key) => JSON.stringify(['del', collection, key]);
const line = (ops) => '[' + ops.join(',') + ']\n';

/** Applies one journal line's operations; each sets a state, so applying one twice changes nothing. */
function replay(db, ops) {
  for (const op of ops) {
    const [kind, name] = op;
    if (kind === 'add') {
      db.addCollection(name, op[2]);
    } else if (kind === 'drop') {
      db.removeCollection(name);
    } else if (kind === 'put' || kind === 'del') {
      const collection = db.getCollection(name);
      // A later entry drops the collection: the row does not outlive it.
      if (collection === null) continue;
      const key = kind === 'put' ? keyOf(name, op[2]) : op[2];
      const old = collection.findOne(keyQuery(name, key));
      if (old) collection.remove(old);
      if (kind === 'put') collection.insert(op[2]);
    } else {
      throw new Error('unknown operation ' + JSON.stringify(kind));
    }
  }
}

class Journal {
  constructor(db, filePrefix, seq) {
    this.db = db;
    this.filePrefix = filePrefix;
    this.seq = seq; // the file appends go to
    this.retiredUpTo = seq - 1;
    this.retiring = Promise.resolve();
    this.depth = 0; // nesting of store calls whose changes form one line
    this.commit = null; // their operations
    this.batch = null; // the open batch the current call belongs to: rows touched
    this.batches = new Map();
    this.openBatches = new Set();
    this.afterBatches = [];
    this.pending = [];
    this.recorded = 0;
    this.written = 0;
    this.waiters = [];
    this.writing = false;
    this.failure = null;
    this.handle = null;
    this.handleSeq = 0;
  }

  // --- recording (synchronous, at the moment LokiJS changes the database) ---
  rowChanged(collection, doc, removed) {
    const key = keyOf(collection, doc);
    if (this.batch !== null) this.batch.set(JSON.stringify([collection, key]), [collection, key]);
    else this.add(removed ? delOp(collection, key) : putOp(collection, doc));
  }
  collectionChanged(op) {
    this.add(JSON.stringify(op));
  }
  add(op) {
    if (this.depth > 0) this.commit.push(op);
    else this.enqueue(line([op]));
  }
  begin(batchId) {
    const outer = this.batch;
    if (batchId) {
      if (!this.batches.has(batchId)) this.batches.set(batchId, new Map());
      this.batch = this.batches.get(batchId);
    } else {
      this.batch = null;
    }
    if (this.depth++ === 0) this.commit = [];
    return outer;
  }
  end(outer) {
    this.batch = outer;
    if (--this.depth > 0) return;
    const ops = this.commit;
    this.commit = null;
    if (ops.length > 0) this.enqueue(line(ops));
  }
  batchBegun(batchId) {
    this.openBatches.add(batchId);
  }
  batchEnded(batchId) {
    const rows = this.batches.get(batchId);
    this.batches.delete(batchId);
    this.openBatches.delete(batchId);
    if (rows !== undefined) {
      const ops = [];
      for (const [name, key] of rows.values()) {
        const collection = this.db.getCollection(name);
        if (collection === null) continue; // dropped since: its 'drop' is journaled
        const doc = collection.findOne(keyQuery(name, key));
        ops.push(doc ? putOp(name, doc) : delOp(name, key));
      }
      if (ops.length > 0) this.enqueue(line(ops));
    }
    if (this.openBatches.size === 0) for (const run of this.afterBatches.splice(0)) run();
  }
  whenNoBatchOpen(run) {
    if (this.openBatches.size === 0) run();
    else this.afterBatches.push(run);
  }

  // --- appending (group commit) ---
  enqueue(text) {
    this.pending.push(text);
    this.recorded += 1;
    if (this.writing) return;
    this.writing = true;
    queueMicrotask(() => void this.flush());
  }
  async flush() {
    while (this.pending.length > 0 && this.failure === null) {
      const lines = this.pending;
      this.pending = [];
      try {
        const handle = await this.handleFor(this.seq);
        await handle.appendFile(lines.join(''));
        this.written += lines.length;
      } catch (error) {
        this.failure = new Error('devhost: cannot append to the Azurite journal: ' + error.message);
        process.stderr.write(this.failure.message + ' (writes fail from now on)\n');
      }
      this.settle();
    }
    this.writing = false;
    this.settle();
  }
  async handleFor(seq) {
    if (this.handle !== null && this.handleSeq === seq) return this.handle;
    if (this.handle !== null) {
      const old = this.handle;
      this.handle = null;
      await old.close();
    }
    this.handle = await fsp.open(this.filePrefix + seq, 'a');
    this.handleSeq = seq;
    return this.handle;
  }
  settle() {
    this.waiters = this.waiters.filter((waiter) => {
      if (this.written >= waiter.target) waiter.resolve();
      else if (this.failure !== null) waiter.reject(this.failure);
      else return true;
      return false;
    });
  }
  /** Resolves once everything recorded so far is in the journal file. */
  durable() {
    if (this.written >= this.recorded) return Promise.resolve();
    if (this.failure !== null) return Promise.reject(this.failure);
    const target = this.recorded;
    return new Promise((resolve, reject) => this.waiters.push({ target, resolve, reject }));
  }

  // --- rotation on full saves ---
  /** Called as LokiJS takes its snapshot: later lines go to a new file. Returns the last old one. */
  rotate() {
    this.seq += 1;
    return this.seq - 1;
  }
  /**
   * The snapshot taken at rotate() is saved: delete the files up to upTo, oldest first, so the
   * files left are always the newest ones. An append still running into one of them goes to its
   * open descriptor, so it cannot bring the file back.
   */
  retire(upTo) {
    const from = this.retiredUpTo + 1;
    this.retiredUpTo = Math.max(this.retiredUpTo, upTo);
    this.retiring = this.retiring.then(async () => {
      try {
        for (let seq = from; seq <= upTo; seq += 1) await fsp.rm(this.filePrefix + seq, { force: true });
      } catch (error) {
        process.stderr.write('devhost: could not delete an old Azurite journal (it is replayed again, harmlessly, at the next start): ' + error.message + '\n');
      }
    });
    return this.retiring;
  }
}

let journal = null;

// --- hooks on LokiJS: every change to the database is recorded as it happens ---
const insertOne = Collection.prototype.insertOne;
Collection.prototype.insertOne = function (doc, bulkInsert) {
  const inserted = insertOne.call(this, doc, bulkInsert);
  if (journal !== null && inserted !== undefined) journal.rowChanged(this.name, inserted, false);
  return inserted;
};
const update = Collection.prototype.update;
Collection.prototype.update = function (doc) {
  const updated = update.call(this, doc); // an array comes back here once per document
  if (journal !== null && !Array.isArray(doc)) journal.rowChanged(this.name, updated, false);
  return updated;
};
const remove = Collection.prototype.remove;
Collection.prototype.remove = function (doc) {
  if (journal !== null && Array.isArray(doc)) {
    for (const one of doc) this.remove(one);
    return undefined;
  }
  const target = typeof doc === 'number' ? this.get(doc) : doc;
  const removed = remove.call(this, doc);
  if (journal !== null && removed) journal.rowChanged(this.name, target, true);
  return removed;
};
// These change documents without going through the hooks above (removeWhere and findAndRemove
// with a query end in removeBatchByPositions): refuse them rather than lose their changes.
for (const name of ['clear', 'removeBatch', 'removeBatchByPositions']) {
  const bypass = Collection.prototype[name];
  Collection.prototype[name] = function (...args) {
    if (journal !== null) throw new Error('devhost: Azurite called lokijs Collection.' + name + ', which its journal does not record');
    return bypass.apply(this, args);
  };
}
const addCollection = Loki.prototype.addCollection;
Loki.prototype.addCollection = function (name, options) {
  const added = journal !== null && this === journal.db && !this.collections.some((c) => c.name === name);
  const collection = addCollection.call(this, name, options);
  if (added) journal.collectionChanged(['add', name, options || {}]);
  return collection;
};
const removeCollection = Loki.prototype.removeCollection;
Loki.prototype.removeCollection = function (name) {
  const dropped = journal !== null && this === journal.db && this.collections.some((c) => c.name === name);
  removeCollection.call(this, name);
  if (dropped) journal.collectionChanged(['drop', name]);
};

// --- hooks on Azurite's store: answers wait for the journal ---
const method = (name) => {
  const original = Store.prototype[name];
  if (typeof original !== 'function') unsupported('LokiTableMetadataStore has no ' + name);
  return original;
};
const afterDurable = (answer) =>
  answer.then(
    (result) => journal.durable().then(() => result),
    (error) => journal.durable().then(() => Promise.reject(error)),
  );
/** A write; batchIdOf gives its batch id (a batched write is journaled when its batch ends). */
const wrapWrite = (name, batchIdOf) => {
  const original = method(name);
  Store.prototype[name] = function (...args) {
    if (journal === null) return original.apply(this, args);
    const batchId = batchIdOf(args, original);
    const outer = journal.begin(batchId);
    let answer;
    try {
      answer = original.apply(this, args);
    } finally {
      journal.end(outer);
    }
    return batchId ? answer : afterDurable(answer);
  };
};
for (const name of ['createTable', 'deleteTable', 'setTableACL', 'setServiceProperties'])
  wrapWrite(name, () => undefined);
// Their last parameter is the batch id, set when the write is part of a batch.
for (const name of [
  'insertTableEntity',
  'insertOrUpdateTableEntity',
  'insertOrMergeTableEntity',
  'updateTableEntity',
  'mergeTableEntity',
  'deleteTableEntity',
])
  wrapWrite(name, (args, original) => args[original.length - 1]);
// A read can show a write whose line is still being appended: answer it once that is done.
for (const name of ['getTable', 'queryTable', 'queryTableEntities', 'queryTableEntitiesWithPartitionAndRowKey', 'getServiceProperties']) {
  const original = method(name);
  Store.prototype[name] = function (...args) {
    const answer = original.apply(this, args);
    return journal === null ? answer : answer.then((result) => journal.durable().then(() => result));
  };
}
const beginBatch = method('beginBatchTransaction');
Store.prototype.beginBatchTransaction = function (batchId, ...rest) {
  if (journal !== null) journal.batchBegun(batchId);
  return beginBatch.call(this, batchId, ...rest).catch((error) => {
    if (journal !== null) journal.batchEnded(batchId);
    throw error;
  });
};
const endBatch = method('endBatchTransaction');
Store.prototype.endBatchTransaction = function (account, table, batchId, ...rest) {
  if (journal === null) return endBatch.call(this, account, table, batchId, ...rest);
  const outer = journal.begin(batchId); // a failed batch's rollback belongs to the batch too
  let answer;
  try {
    answer = endBatch.call(this, account, table, batchId, ...rest);
  } finally {
    journal.end(outer);
    journal.batchEnded(batchId);
  }
  return afterDurable(answer);
};

// --- start-up: replay, then journal from here on ---
const saveNow = (db) => new Promise((resolve, reject) => db.saveDatabase((error) => (error ? reject(error) : resolve())));

async function replayFile(db, file) {
  const text = await fsp.readFile(file, 'utf8');
  const lines = text.split('\n');
  lines.pop(); // what follows the last newline was cut short by a crash: never acknowledged
  lines.forEach((text, index) => {
    if (text === '') return;
    let ops;
    try {
      ops = JSON.parse(text);
      replay(db, ops);
    } catch (error) {
      throw new Error('devhost: cannot replay the Azurite journal ' + file + ' at line ' + (index + 1) + ': ' + error.message);
    }
  });
  return lines.length;
}

const init = method('init');
Store.prototype.init = async function () {
  await init.call(this);
  if (this.TABLES_COLLECTION !== '$TABLES_COLLECTION$' || this.SERVICES_COLLECTION !== '$SERVICES_COLLECTION$')
    unsupported("Azurite's registry collections are named differently");
  const dir = path.dirname(this.lokiDBPath);
  const filePrefix = path.join(dir, path.basename(this.lokiDBPath) + config.journalInfix);
  const pattern = /^\d+$/;
  const prefix = path.basename(filePrefix);
  const seqs = (await fsp.readdir(dir))
    .filter((name) => name.startsWith(prefix) && pattern.test(name.slice(prefix.length)))
    .map((name) => Number(name.slice(prefix.length)))
    .sort((a, b) => a - b);
  if (seqs.length > 0) {
    process.stderr.write(config.replayMessage + ' (' + seqs.length + ' file(s))\n');
    let lines = 0;
    for (const seq of seqs) lines += await replayFile(this.db, filePrefix + seq);
    await saveNow(this.db);
    for (const seq of seqs) await fsp.rm(filePrefix + seq, { force: true });
    process.stderr.write('devhost: replayed ' + lines + ' journal line(s) and saved the database\n');
  }
  const db = this.db;
  const current = new Journal(db, filePrefix, (seqs.length > 0 ? seqs[seqs.length - 1] : 0) + 1);
  const saveDatabaseInternal = db.saveDatabaseInternal;
  // LokiJS serializes the database synchronously inside this call: the snapshot a new file starts at.
  db.saveDatabaseInternal = function (callback) {
    current.whenNoBatchOpen(() => {
      const upTo = current.rotate();
      saveDatabaseInternal.call(db, (error) => {
        const done = () => {
          if (callback) callback(error);
          else if (error) throw error;
        };
        if (error) done();
        else void current.retire(upTo).then(done);
      });
    });
  };
  if (config.fullSaveIntervalMs !== null) {
    db.autosaveDisable();
    db.autosaveInterval = config.fullSaveIntervalMs;
    db.autosaveEnable();
  }
  journal = current;
};

require(process.argv[1]);
`;
