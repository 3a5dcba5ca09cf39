import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ALERT_QUERIES,
  alertQueriesFile,
  luciusWorkbook,
  luciusWorkbookFile,
  MONITORING_QUERIES,
  WORKBOOK_TOKENS,
} from '../../../scripts/generators/monitoring';
import { expectCommittedUpToDate, prettierFormatted, REPO_ROOT } from './generated-files';

const read = (path: string): string => readFileSync(join(REPO_ROOT, path), 'utf8');

/** The ```kusto blocks of a markdown document. */
function kustoBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/```kusto\n([\s\S]*?)\n```/g)].map((match) => match[1]!);
}

describe('monitoring generator', () => {
  it.each([luciusWorkbookFile, alertQueriesFile])('matches the committed $path', (file) => {
    expectCommittedUpToDate(file);
  });

  it.each([luciusWorkbookFile, alertQueriesFile])('writes $path so Prettier leaves it unchanged', (file) => {
    const content = file.generate();
    expect(prettierFormatted(file.path, content)).toBe(content);
  });

  it('puts every query in the workbook, and the queue depths as Service Bus metrics', () => {
    const items = luciusWorkbook().items as ReadonlyArray<{ type: number; name: string; content: unknown }>;
    for (const [name, query] of Object.entries(MONITORING_QUERIES)) {
      const item = items.find((candidate) => candidate.name === name);
      expect(item?.content).toMatchObject({ query: query.kql, title: query.title });
    }
    const metrics = items.filter((item) => item.type === 10).map((item) => JSON.stringify(item.content));
    expect(
      metrics.some((m) => m.includes('--ActiveMessages') && m.includes(WORKBOOK_TOKENS.quarantineQueue)),
    ).toBe(true);
    expect(metrics.some((m) => m.includes('--DeadletteredMessages'))).toBe(true);
  });

  it('leaves only the tokens infra/app/workbook.bicep replaces', () => {
    const bicep = read('infra/app/workbook.bicep');
    const content = luciusWorkbookFile.generate();
    for (const token of content.match(/__[A-Z_]+__/g) ?? []) {
      expect({ token, replaced: bicep.includes(`'${token}'`) }).toEqual({ token, replaced: true });
    }
  });

  it('documents every workbook and alert query verbatim in docs/monitoring.md', () => {
    const blocks = kustoBlocks(read('docs/monitoring.md'));
    const queries = [...Object.values(MONITORING_QUERIES), ...Object.values(ALERT_QUERIES)].map((q) => q.kql);
    expect(queries.filter((kql) => !blocks.includes(kql))).toEqual([]);
  });

  it('gives infra/app/alerts.bicep each alert query and its measure column', () => {
    const bicep = read('infra/app/alerts.bicep');
    for (const name of Object.keys(ALERT_QUERIES)) {
      expect(bicep).toContain(`alertQueries.${name}.kql`);
      expect(bicep).toContain(`alertQueries.${name}.measure`);
    }
    for (const query of Object.values(ALERT_QUERIES)) {
      expect(query.kql).toContain(query.measure);
    }
  });
});
