/**
 * Header maps as the guards read them: any of a fetch `Headers` (what `HttpRequest.headers` is),
 * a list of name/value pairs, or a plain record, read case-insensitively.
 */
export type HeaderInput =
  Iterable<readonly [string, string]> | Readonly<Record<string, string | readonly string[] | undefined>>;

/** The headers as [lower-cased name, value] pairs, in order; a repeated header stays repeated. */
export function headerEntries(input: HeaderInput): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  if (isIterable(input)) {
    for (const [name, value] of input) entries.push([name.toLowerCase(), value]);
    return entries;
  }
  for (const [name, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (typeof value === 'string') entries.push([name.toLowerCase(), value]);
    else for (const v of value) entries.push([name.toLowerCase(), v]);
  }
  return entries;
}

/** A header's value (repeated fields joined with ", ", as HTTP allows for list fields), or undefined. */
export function headerValue(input: HeaderInput, name: string): string | undefined {
  const wanted = name.toLowerCase();
  const values = headerEntries(input)
    .filter(([n]) => n === wanted)
    .map(([, v]) => v);
  return values.length === 0 ? undefined : values.join(', ');
}

function isIterable(input: HeaderInput): input is Iterable<readonly [string, string]> {
  return typeof (input as { [Symbol.iterator]?: unknown })[Symbol.iterator] === 'function';
}
