/** What `run` writes to stdout, captured instead of printed (for in-process command-line tests). */
export async function printed(run: () => Promise<void>): Promise<string> {
  let out = '';
  const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await run();
  } finally {
    spy.mockRestore();
  }
  return out;
}
