/**
 * A `BrokerStore` that survives restarts: an in-memory store whose every mutation is appended to
 * `journal.jsonl` in a folder (synchronously, so a message accepted by `send` is on disk when
 * `send` returns), compacted into `snapshot.json` on open, on close and every `compactEvery`
 * journal entries. A torn last journal line (a crash mid-append) is ignored; any other unreadable
 * line is corruption and fails the open. devhost keeps the folder beside Azurite's `.azurite/`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BrokerStore, MessageRecord } from './broker-store';
import { fromJson, toJson } from './json-codec';
import { MemoryBrokerStore, type EntitySnapshot } from './memory-broker-store';

const SNAPSHOT = 'snapshot.json';
const JOURNAL = 'journal.jsonl';

type JournalEntry =
  | { readonly op: 'seq'; readonly entity: string; readonly value: number }
  | { readonly op: 'put'; readonly entity: string; readonly record: MessageRecord }
  | { readonly op: 'remove'; readonly entity: string; readonly sequenceNumber: number }
  | { readonly op: 'remember'; readonly entity: string; readonly messageId: string; readonly at: Date }
  | { readonly op: 'forget'; readonly entity: string; readonly before: Date };

export interface FileBrokerStoreOptions {
  /** Journal entries after which the journal is folded into the snapshot. */
  readonly compactEvery?: number;
}

export class FileBrokerStore implements BrokerStore {
  private memory: MemoryBrokerStore;
  private journalEntries = 0;
  private closed = false;
  private readonly compactEvery: number;

  private constructor(
    private readonly folder: string,
    options: FileBrokerStoreOptions,
  ) {
    this.compactEvery = options.compactEvery ?? 10_000;
    this.memory = new MemoryBrokerStore(readSnapshot(path.join(folder, SNAPSHOT)));
    for (const entry of readJournal(path.join(folder, JOURNAL))) this.apply(this.memory, entry);
    this.compact();
  }

  /** Opens (creating if needed) the store kept in `folder`. */
  static open(folder: string, options: FileBrokerStoreOptions = {}): FileBrokerStore {
    fs.mkdirSync(folder, { recursive: true });
    return new FileBrokerStore(folder, options);
  }

  allocateSequenceNumber(entity: string): number {
    const value = this.memory.allocateSequenceNumber(entity);
    this.append({ op: 'seq', entity, value });
    return value;
  }

  list(entity: string): readonly MessageRecord[] {
    return this.memory.list(entity);
  }

  get(entity: string, sequenceNumber: number): MessageRecord | undefined {
    return this.memory.get(entity, sequenceNumber);
  }

  put(entity: string, record: MessageRecord): void {
    this.memory.put(entity, record);
    this.append({ op: 'put', entity, record });
  }

  remove(entity: string, sequenceNumber: number): void {
    this.memory.remove(entity, sequenceNumber);
    this.append({ op: 'remove', entity, sequenceNumber });
  }

  lastSeen(entity: string, messageId: string): Date | undefined {
    return this.memory.lastSeen(entity, messageId);
  }

  remember(entity: string, messageId: string, at: Date): void {
    this.memory.remember(entity, messageId, at);
    this.append({ op: 'remember', entity, messageId, at });
  }

  forgetSeenBefore(entity: string, before: Date): void {
    this.memory.forgetSeenBefore(entity, before);
    this.append({ op: 'forget', entity, before });
  }

  entities(): readonly string[] {
    return this.memory.entities();
  }

  close(): void {
    if (this.closed) return;
    this.compact();
    this.closed = true;
  }

  private append(entry: JournalEntry): void {
    if (this.closed) throw new Error(`FileBrokerStore at ${this.folder} is closed.`);
    fs.appendFileSync(path.join(this.folder, JOURNAL), `${JSON.stringify(toJson(entry))}\n`);
    this.journalEntries += 1;
    if (this.journalEntries >= this.compactEvery) this.compact();
  }

  /** Writes the snapshot atomically (temp file + rename), then empties the journal. */
  private compact(): void {
    const snapshotPath = path.join(this.folder, SNAPSHOT);
    const temporary = `${snapshotPath}.${process.pid}.tmp`;
    fs.writeFileSync(temporary, JSON.stringify(toJson({ version: 1, entities: this.memory.snapshot() })));
    fs.renameSync(temporary, snapshotPath);
    fs.writeFileSync(path.join(this.folder, JOURNAL), '');
    this.journalEntries = 0;
  }

  private apply(store: MemoryBrokerStore, entry: JournalEntry): void {
    switch (entry.op) {
      case 'seq':
        store.raiseSequenceNumber(entry.entity, entry.value);
        return;
      case 'put':
        store.put(entry.entity, entry.record);
        return;
      case 'remove':
        store.remove(entry.entity, entry.sequenceNumber);
        return;
      case 'remember':
        store.remember(entry.entity, entry.messageId, entry.at);
        return;
      case 'forget':
        store.forgetSeenBefore(entry.entity, entry.before);
        return;
      default: {
        const never: never = entry;
        throw new Error(`Unknown broker journal entry ${JSON.stringify(never)}`);
      }
    }
  }
}

function readSnapshot(file: string): EntitySnapshot[] {
  if (!fs.existsSync(file)) return [];
  const snapshot = fromJson(JSON.parse(fs.readFileSync(file, 'utf8'))) as {
    version: number;
    entities: EntitySnapshot[];
  };
  if (snapshot.version !== 1)
    throw new Error(`Unsupported broker snapshot version ${snapshot.version} in ${file}.`);
  return snapshot.entities;
}

function readJournal(file: string): JournalEntry[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const entries: JournalEntry[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    try {
      entries.push(fromJson(JSON.parse(line)) as JournalEntry);
    } catch (error) {
      const isLast = lines.slice(index + 1).every((rest) => rest.trim() === '');
      if (!isLast) throw new Error(`Corrupt broker journal ${file} at line ${index + 1}.`, { cause: error });
      // A torn final line: the process died mid-append, before the operation returned.
    }
  });
  return entries;
}
