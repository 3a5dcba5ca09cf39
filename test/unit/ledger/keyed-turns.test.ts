/**
 * KeyedTurns: work of one key runs one after the other in the order given, a failure does not stop
 * the next turn, other keys run freely, and an idle key leaves nothing behind.
 */
import { KeyedTurns } from '../../../src/ledger/table-support/keyed-turns';

/** A promise settled from outside, so a test decides when a turn's work ends. */
function gate(): { readonly promise: Promise<void>; readonly open: () => void } {
  let open = (): void => undefined;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

describe('KeyedTurns', () => {
  it('runs the work of one key one after the other, in the order given', async () => {
    const turns = new KeyedTurns();
    const log: string[] = [];
    const first = gate();
    const a = turns.run('row', async () => {
      log.push('a starts');
      await first.promise;
      log.push('a ends');
      return 'a';
    });
    const b = turns.run('row', async () => {
      log.push('b starts');
      return 'b';
    });
    await Promise.resolve();
    expect(log).toEqual(['a starts']);

    first.open();

    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
    expect(log).toEqual(['a starts', 'a ends', 'b starts']);
  });

  it('lets other keys run while one is busy', async () => {
    const turns = new KeyedTurns();
    const held = gate();
    const busy = turns.run('one', () => held.promise);

    expect(await turns.run('other', async () => 'ran')).toBe('ran');

    held.open();
    await busy;
  });

  it('runs the next turn after a failed one, and forgets a key once idle', async () => {
    const turns = new KeyedTurns();
    const failed = turns.run('row', async () => {
      throw new Error('lost');
    });
    const next = turns.run('row', async () => 'next');

    await expect(failed).rejects.toThrow('lost');
    expect(await next).toBe('next');
    await new Promise((resolve) => setImmediate(resolve));
    expect(turns.busyKeys).toBe(0);
  });
});
