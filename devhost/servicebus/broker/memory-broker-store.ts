/** The in-memory `BrokerStore`: everything is lost when the process ends. */
import type { BrokerStore, MessageRecord } from './broker-store';

/** One entity's state, as `FileBrokerStore` snapshots it. */
export interface EntitySnapshot {
  readonly entity: string;
  readonly lastSequenceNumber: number;
  readonly messages: readonly MessageRecord[];
  readonly seen: readonly (readonly [string, Date])[];
}

interface EntityState {
  lastSequenceNumber: number;
  messages: Map<number, MessageRecord>;
  /** Whether `messages` is in ascending sequence-number order (a dead-lettered or restored record can break it). */
  ordered: boolean;
  maxSequenceNumber: number;
  seen: Map<string, Date>;
}

export class MemoryBrokerStore implements BrokerStore {
  private readonly state = new Map<string, EntityState>();

  constructor(snapshot: readonly EntitySnapshot[] = []) {
    for (const entity of snapshot) {
      const state = this.entity(entity.entity);
      state.lastSequenceNumber = entity.lastSequenceNumber;
      for (const record of entity.messages) this.put(entity.entity, record);
      for (const [id, at] of entity.seen) state.seen.set(id, at);
    }
  }

  allocateSequenceNumber(entity: string): number {
    const state = this.entity(entity);
    state.lastSequenceNumber += 1;
    return state.lastSequenceNumber;
  }

  /** Moves the entity's counter up to `lastSequenceNumber` (replaying a journal). */
  raiseSequenceNumber(entity: string, lastSequenceNumber: number): void {
    const state = this.entity(entity);
    state.lastSequenceNumber = Math.max(state.lastSequenceNumber, lastSequenceNumber);
  }

  list(entity: string): readonly MessageRecord[] {
    const state = this.state.get(entity);
    if (state === undefined) return [];
    if (!state.ordered) {
      state.messages = new Map([...state.messages.entries()].sort(([a], [b]) => a - b));
      state.ordered = true;
    }
    return [...state.messages.values()];
  }

  get(entity: string, sequenceNumber: number): MessageRecord | undefined {
    return this.state.get(entity)?.messages.get(sequenceNumber);
  }

  put(entity: string, record: MessageRecord): void {
    const state = this.entity(entity);
    if (!state.messages.has(record.sequenceNumber)) {
      if (record.sequenceNumber < state.maxSequenceNumber) state.ordered = false;
      state.maxSequenceNumber = Math.max(state.maxSequenceNumber, record.sequenceNumber);
    }
    state.messages.set(record.sequenceNumber, record);
  }

  remove(entity: string, sequenceNumber: number): void {
    this.state.get(entity)?.messages.delete(sequenceNumber);
  }

  lastSeen(entity: string, messageId: string): Date | undefined {
    return this.state.get(entity)?.seen.get(messageId);
  }

  remember(entity: string, messageId: string, at: Date): void {
    const seen = this.entity(entity).seen;
    seen.delete(messageId); // keep insertion order = acceptance order, so forgetting stops early
    seen.set(messageId, at);
  }

  forgetSeenBefore(entity: string, before: Date): void {
    const seen = this.state.get(entity)?.seen;
    if (seen === undefined) return;
    for (const [id, at] of seen) {
      if (at.getTime() >= before.getTime()) break;
      seen.delete(id);
    }
  }

  entities(): readonly string[] {
    return [...this.state.keys()];
  }

  close(): void {}

  /** Everything held, for snapshots. */
  snapshot(): EntitySnapshot[] {
    return [...this.state.entries()].map(([entity, state]) => ({
      entity,
      lastSequenceNumber: state.lastSequenceNumber,
      messages: this.list(entity),
      seen: [...state.seen.entries()],
    }));
  }

  private entity(entity: string): EntityState {
    let state = this.state.get(entity);
    if (state === undefined) {
      state = {
        lastSequenceNumber: 0,
        messages: new Map(),
        ordered: true,
        maxSequenceNumber: 0,
        seen: new Map(),
      };
      this.state.set(entity, state);
    }
    return state;
  }
}
