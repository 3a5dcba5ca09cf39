/**
 * KeyedGroups: changes of one key given together, or while a write of the key is in flight, go in
 * one write, in the order given, each answered on its own; a group is bounded; a failed write fails
 * its group only; an idle key leaves nothing behind.
 */
import { KeyedGroups, type GroupAnswer } from '../../../src/ledger/table-support/keyed-groups';

/** A promise settled from outside, so a test decides when a write ends. */
function gate(): { readonly promise: Promise<void>; readonly open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** A change that adds to a running total, or refuses a negative amount. */
type Add = number;

/** A writer of running totals that logs each group it writes. */
function totals(): {
  readonly groups: number[][];
  readonly write: (group: readonly Add[]) => Promise<GroupAnswer[]>;
} {
  const groups: number[][] = [];
  let total = 0;
  return {
    groups,
    write: async (group) => {
      groups.push([...group]);
      return group.map((amount): GroupAnswer => {
        if (amount < 0) return { ok: false, error: new RangeError(`cannot add ${amount}`) };
        total += amount;
        return { ok: true, result: total };
      });
    },
  };
}

describe('KeyedGroups', () => {
  it('writes the changes given together in one group, in order, each answered on its own', async () => {
    const groups = new KeyedGroups<Add>(50);
    const writer = totals();

    const answers = await Promise.allSettled([1, 2, -1, 3].map((n) => groups.submit('row', n, writer.write)));

    expect(writer.groups).toEqual([[1, 2, -1, 3]]);
    expect(answers).toEqual([
      { status: 'fulfilled', value: 1 },
      { status: 'fulfilled', value: 3 },
      { status: 'rejected', reason: new RangeError('cannot add -1') },
      { status: 'fulfilled', value: 6 },
    ]);
  });

  it('puts the changes given while a write is in flight in the next write together', async () => {
    const groups = new KeyedGroups<Add>(50);
    const writer = totals();
    const held = gate();
    const slow = async (group: readonly Add[]): Promise<GroupAnswer[]> => {
      await held.promise;
      return writer.write(group);
    };
    const first = groups.submit('row', 1, slow);
    await new Promise((resolve) => setImmediate(resolve));
    const later = [groups.submit('row', 2, slow), groups.submit('row', 3, slow)];

    held.open();

    expect(await Promise.all([first, ...later])).toEqual([1, 3, 6]);
    expect(writer.groups).toEqual([[1], [2, 3]]);
  });

  it('writes at most `maxGroup` changes at once', async () => {
    const groups = new KeyedGroups<Add>(2);
    const writer = totals();

    await Promise.all([1, 1, 1, 1, 1].map((n) => groups.submit('row', n, writer.write)));

    expect(writer.groups).toEqual([[1, 1], [1, 1], [1]]);
  });

  it('fails the group of a failed write only, and forgets a key once idle', async () => {
    const groups = new KeyedGroups<Add>(50);
    const writer = totals();
    const held = gate();
    let writes = 0;
    const failsFirst = async (group: readonly Add[]): Promise<GroupAnswer[]> => {
      writes += 1;
      if (writes === 1) {
        await held.promise;
        throw new Error('storage unavailable');
      }
      return writer.write(group);
    };
    const lost = [groups.submit('row', 1, failsFirst), groups.submit('row', 2, failsFirst)];
    await new Promise((resolve) => setImmediate(resolve));
    const next = groups.submit('row', 3, failsFirst);
    expect(groups.busyKeys).toBe(1);

    held.open();

    await expect(Promise.all(lost)).rejects.toThrow('storage unavailable');
    await expect(lost[1]).rejects.toThrow('storage unavailable');
    expect(await next).toBe(3);
    expect(groups.busyKeys).toBe(0);
  });

  it('writes other keys freely while one is busy', async () => {
    const groups = new KeyedGroups<Add>(50);
    const held = gate();
    const busy = groups.submit('one', 1, async (group) => {
      await held.promise;
      return group.map(() => ({ ok: true, result: 'one' }));
    });

    expect(await groups.submit('other', 1, totals().write)).toBe(1);

    held.open();
    expect(await busy).toBe('one');
  });
});
