import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';
import { loadConfig } from '../src/config/load.js';
import { compileQuery, matchDocument } from '../src/topics/match.js';
import { compileTopics } from '../src/topics/topics.js';
import { runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';

const queriesDoc = readFileSync(new URL('../docs/queries.md', import.meta.url), 'utf8');

/** Rows of the "Examples" table: query, a headline it matches, a headline it does not. */
function exampleRows(markdown: string): Array<[string, string, string]> {
  const section = markdown.split('## Examples')[1]!.split('\n## ')[0]!;
  return section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => {
      const [query, yes, no] = line.split(' | ').map((cell) => cell.replace(/^\|\s*|\s*\|$/g, '').trim());
      return [query!.replace(/^`|`$/g, ''), yes!, no!];
    });
}

describe('docs/queries.md', () => {
  const rows = exampleRows(queriesDoc);

  it('has examples', () => expect(rows.length).toBeGreaterThanOrEqual(5));

  it.each(rows)('%s', (query, matching, notMatching) => {
    const matches = compileQuery(query);
    const headline = (title: string) => matchDocument({ title, publishedAt: new Date() });
    expect(matches(headline(matching))).toBe(true);
    expect(matches(headline(notMatching))).toBe(false);
  });

  it('every query in its syntax table parses', () => {
    const syntax = queriesDoc.split('## The language')[1]!.split('\n## ')[0]!;
    const snippets = [...syntax.matchAll(/^\| `([^`]+)`/gm)].map((match) => match[1]!).filter((snippet) => !snippet.includes('…'));
    expect(snippets.length).toBeGreaterThan(10);
    for (const snippet of snippets) expect(() => compileQuery(snippet), snippet).not.toThrow();
  });
});

const configurationDoc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');

/** The text of a "## heading" section, up to the next one. */
function section(markdown: string, heading: string): string {
  return markdown.split(`\n## ${heading}\n`)[1]!.split('\n## ')[0]!;
}

/** Rows of a section's key table: the key and, when it is one literal value, its default. */
function keyRows(markdown: string, heading: string): Array<{ key: string; literal?: string }> {
  return section(markdown, heading)
    .split('\n')
    .filter((line) => /^\| `/.test(line))
    .map((line) => {
      const [key, fallback] = line.split(' | ').map((cell) => cell.replace(/^\|\s*/, '').trim());
      return { key: key!.replace(/`/g, ''), literal: /^`([^`]+)`$/.exec(fallback!)?.[1] };
    });
}

const fencedBlocks = (markdown: string, language: string) => [...markdown.matchAll(new RegExp('```' + language + '\\n([\\s\\S]*?)```', 'g'))].map((match) => match[1]!);

/** A YAML scalar for a documented value: numbers and booleans as they are, anything else quoted. */
const yamlValue = (text: string) => (/^(-?\d+|true|false)$/.test(text) ? text : JSON.stringify(text));

describe('docs/configuration.md', () => {
  const schema = configJsonSchema() as { properties: Record<string, { properties?: Record<string, unknown>; items?: { properties: Record<string, unknown> } }> };
  const blocks = ['sources', 'topics', 'fetch', 'publish', 'worker'] as const;

  it.each(blocks)('documents every key of %s, and only those', (block) => {
    const keys = Object.keys(schema.properties[block]!.properties ?? schema.properties[block]!.items!.properties);
    expect(keyRows(configurationDoc, block).map((row) => row.key).sort()).toEqual(keys.sort());
  });

  const SOURCE = '  - id: kyodo\n    url: https://english.kyodonews.net/rss/all.xml\n';
  const TOPIC = '  - slug: japan\n    title: Japan\n    query: japan\n';
  const effective = (block: (typeof blocks)[number], yaml: string) => {
    const config = loadConfig(writeConfigDir({ 'config.yml': yaml }));
    return block === 'topics' ? JSON.parse(JSON.stringify(compileTopics(config.topics, config.sources))) : config[block];
  };
  const documentedDefaults = blocks.flatMap((block) => keyRows(configurationDoc, block).filter((row) => row.literal !== undefined).map((row) => [block, row.key, row.literal!] as const));

  it('states a literal default for most keys', () => expect(documentedDefaults.length).toBeGreaterThanOrEqual(15));

  it.each(documentedDefaults)('%s.%s defaults to %s, as documented', (block, key, literal) => {
    const setting = block === 'sources' ? `${SOURCE}    ${key}: ${yamlValue(literal)}\n` : block === 'topics' ? `${TOPIC}    ${key}: ${yamlValue(literal)}\n` : `  ${key}: ${yamlValue(literal)}\n`;
    const base = `sources:\n${block === 'sources' ? '' : SOURCE}topics:\n${block === 'topics' ? '' : TOPIC}`;
    const without = block === 'sources' ? `sources:\n${SOURCE}topics:\n${TOPIC}` : block === 'topics' ? `sources:\n${SOURCE}topics:\n${TOPIC}` : `${base}${block}: {}\n`;
    const withDefault = block === 'sources' ? `sources:\n${setting}topics:\n${TOPIC}` : block === 'topics' ? `sources:\n${SOURCE}topics:\n${setting}` : `${base}${block}:\n${setting}`;
    expect(effective(block, withDefault)).toEqual(effective(block, without));
  });

  it('its complete example loads', () => {
    const examples = fencedBlocks(configurationDoc, 'yaml').filter((text) => !text.startsWith('# feeds/'));
    expect(examples.length).toBeGreaterThanOrEqual(1);
    for (const example of examples) expect(() => loadConfig(writeConfigDir({ 'example.yml': example }))).not.toThrow();
  });

  it('its example of mistakes gives exactly the messages it shows', async () => {
    const files = fencedBlocks(configurationDoc, 'yaml').filter((text) => text.startsWith('# feeds/'));
    const folder = mkdtempSync(join(tmpdir(), 'wirefeed-docs-'));
    mkdirSync(join(folder, 'feeds'));
    for (const text of files) writeFileSync(join(folder, /^# (feeds\/\S+)/.exec(text)![1]!), text);
    const cli = runCli(['validate'], { LOG_LEVEL: 'silent' }, folder);
    expect(await cli.exited).toBe(1);
    const shown = fencedBlocks(configurationDoc, 'text').find((text) => text.includes('nothing started'))!;
    expect(cli.output().stderr).toBe(shown);
  });

  it('lists every environment variable the code reads', () => {
    const documented = [...section(configurationDoc, 'Environment').matchAll(/^\| `([A-Z_]+)`/gm)].map((match) => match[1]!);
    const read = new Set<string>();
    for (const file of readdirSync(new URL('../src', import.meta.url), { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      for (const match of text.matchAll(/(?:process\.)?env\.([A-Z_]+)/g)) read.add(match[1]!);
    }
    expect(documented.sort()).toEqual([...read].sort());
  });
});
