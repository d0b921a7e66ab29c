import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configJsonSchema } from '../src/config/json-schema.js';
import { loadConfig } from '../src/config/load.js';
import { ENV_REFERENCE } from '../src/config/schema.js';
import { openMigratedDatabase } from '../src/db/client.js';
import { sources as sourcesTable } from '../src/db/schema.js';
import { PROXY_VARIABLES } from '../src/fetch/proxy-rules.js';
import { createMetrics } from '../src/metrics/index.js';
import { sourceHealth, syncSources } from '../src/store/sources.js';
import { compileQuery, matchDocument } from '../src/topics/match.js';
import { compileTopics } from '../src/topics/topics.js';
import { openTestApp, serveApp } from './helpers/app.js';
import { ROOT, runCli } from './helpers/cli.js';
import { writeConfigDir } from './helpers/config.js';
import { createThrowawayDatabase, openTestDatabase, testEngine, testServerUrl } from './helpers/database.js';

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

const fencedBlocks = (markdown: string, language: string) =>
  [...markdown.matchAll(new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1]!);

/** A YAML scalar for a documented value: numbers and booleans as they are, anything else quoted. */
const yamlValue = (text: string) => (/^(-?\d+|true|false)$/.test(text) ? text : JSON.stringify(text));

describe('docs/configuration.md', () => {
  const schema = configJsonSchema() as {
    properties: Record<string, { properties?: Record<string, unknown>; items?: { properties: Record<string, unknown> } }>;
  };
  const blocks = ['sources', 'topics', 'fetch', 'publish', 'worker', 'retention'] as const;

  it.each(blocks)('documents every key of %s, and only those', (block) => {
    const keys = Object.keys(schema.properties[block]!.properties ?? schema.properties[block]!.items!.properties);
    expect(
      keyRows(configurationDoc, block)
        .map((row) => row.key)
        .sort(),
    ).toEqual(keys.sort());
  });

  const SOURCE = '  - id: kyodo\n    url: https://english.kyodonews.net/rss/all.xml\n';
  const TOPIC = '  - slug: japan\n    title: Japan\n    query: japan\n';
  const effective = (block: (typeof blocks)[number], yaml: string) => {
    const config = loadConfig(writeConfigDir({ 'config.yml': yaml }));
    return block === 'topics' ? JSON.parse(JSON.stringify(compileTopics(config.topics, config.sources))) : config[block];
  };
  const documentedDefaults = blocks.flatMap((block) =>
    keyRows(configurationDoc, block)
      .filter((row) => row.literal !== undefined)
      .map((row) => [block, row.key, row.literal!] as const),
  );

  it('states a literal default for most keys', () => expect(documentedDefaults.length).toBeGreaterThanOrEqual(15));

  it.each(documentedDefaults)('%s.%s defaults to %s, as documented', (block, key, literal) => {
    const setting =
      block === 'sources'
        ? `${SOURCE}    ${key}: ${yamlValue(literal)}\n`
        : block === 'topics'
          ? `${TOPIC}    ${key}: ${yamlValue(literal)}\n`
          : `  ${key}: ${yamlValue(literal)}\n`;
    const base = `sources:\n${block === 'sources' ? '' : SOURCE}topics:\n${block === 'topics' ? '' : TOPIC}`;
    const without =
      block === 'sources' ? `sources:\n${SOURCE}topics:\n${TOPIC}` : block === 'topics' ? `sources:\n${SOURCE}topics:\n${TOPIC}` : `${base}${block}: {}\n`;
    const withDefault =
      block === 'sources'
        ? `sources:\n${setting}topics:\n${TOPIC}`
        : block === 'topics'
          ? `sources:\n${SOURCE}topics:\n${setting}`
          : `${base}${block}:\n${setting}`;
    expect(effective(block, withDefault)).toEqual(effective(block, without));
  });

  it('its complete example loads, with the environment variables it names set', () => {
    const examples = fencedBlocks(configurationDoc, 'yaml').filter((text) => !text.startsWith('# feeds/'));
    expect(examples.length).toBeGreaterThanOrEqual(1);
    const names = [...new Set(examples.flatMap((example) => [...example.matchAll(ENV_REFERENCE)].map((match) => match[1]!)))];
    for (const name of names) process.env[name] = `value of ${name}`;
    try {
      for (const example of examples) expect(() => loadConfig(writeConfigDir({ 'example.yml': example }))).not.toThrow();
    } finally {
      for (const name of names) delete process.env[name];
    }
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
    // A row may name several (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`), each in backticks in its first cell.
    const documented = [...section(configurationDoc, 'Environment').matchAll(/^\|([^|]+)\|/gm)].flatMap(([, cell]) =>
      [...cell!.matchAll(/`([A-Z_]+)`/g)].map((match) => match[1]!),
    );
    // The proxy variables are read by name from a table (upper case first, lower case documented with them).
    const read = new Set<string>(Object.values(PROXY_VARIABLES).map(([upper]) => upper));
    for (const file of readdirSync(new URL('../src', import.meta.url), { recursive: true }) as string[]) {
      if (!file.endsWith('.ts')) continue;
      const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
      for (const match of text.matchAll(/(?:process\.)?env\.([A-Z_]+)/g)) read.add(match[1]!);
    }
    expect(documented.sort()).toEqual([...read].sort());
  });
});

const operationsDoc = readFileSync(new URL('../docs/operations.md', import.meta.url), 'utf8');

/** Every log call in src/: its level and the message(s) it can log (a ternary gives two). */
function logEventsInCode(): Array<[string, string]> {
  const events: Array<[string, string]> = [];
  for (const file of readdirSync(new URL('../src', import.meta.url), { recursive: true }) as string[]) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(new URL(`../src/${file}`, import.meta.url), 'utf8');
    for (const [, level, args] of text.matchAll(/\blog\.(trace|debug|info|warn|error|fatal)\(([\s\S]*?)\)[;,]?\n/g)) {
      const tail = args!.slice(args!.lastIndexOf('}') + 1);
      for (const [, message] of tail.matchAll(/'([^']+)'/g)) events.push([message!, level!]);
    }
  }
  return events;
}

describe('docs/operations.md', () => {
  it('shows what /healthz and /readyz answer', async () => {
    const examples = [...operationsDoc.matchAll(/^\$ curl -s localhost:8080(\/\S+)\n(.+)$/gm)].map((match) => [match[1]!, match[2]!] as const);
    expect(examples.map(([path]) => path)).toEqual(['/healthz', '/readyz']);
    const database = await openTestDatabase();
    const app = await openTestApp(database.handle, { configDir: writeConfigDir({ 'sources.yml': 'sources: []\n' }) });
    const served = await serveApp(app);
    try {
      for (const [path, body] of examples) expect((await (await fetch(`${served.base}${path}`)).text()).trim()).toBe(body);
    } finally {
      await served.stop();
      await app.close();
      await database.close();
    }
  });

  it('lists every wirefeed metric, and only those', async () => {
    const documented = [...operationsDoc.matchAll(/^\| `(wirefeed_[a-z_]+)` \| (\w+) \|/gm)].map((match) => [match[1]!, match[2]!]);
    const all = await createMetrics().registry.getMetricsAsJSON();
    expect(all.some((metric) => metric.name.startsWith('wirefeed_process_')) && all.some((metric) => metric.name.startsWith('wirefeed_nodejs_'))).toBe(true);
    const registered = all.filter((metric) => !/^wirefeed_(process|nodejs)_/.test(metric.name)).map((metric) => [metric.name, metric.type]);
    expect(documented.sort()).toEqual(registered.sort());
  });

  it('lists every log event with its level, and only those', () => {
    const documented = [...section(operationsDoc, 'Logs').matchAll(/^\| `([^`]+)` \| (\w+) \|/gm)].map((match) => [match[1]!, match[2]!]);
    const inCode = [...new Map(logEventsInCode().map(([message, level]) => [`${message}|${level}`, [message, level]])).values()];
    expect(inCode.length).toBeGreaterThan(20);
    expect(documented.sort()).toEqual(inCode.sort());
  });

  it('shows a fetch log line with the fields a real one has', async () => {
    const example = JSON.parse(fencedBlocks(operationsDoc, 'json')[0]!) as Record<string, unknown>;
    const cli = runCli(['ingest', '--once', '--source', 'jiji-press', '--config', 'feeds/demo'], {
      DATA_DIR: mkdtempSync(join(tmpdir(), 'wirefeed-data-')),
      DATABASE_URL: '',
      LOG_LEVEL: 'info',
    });
    expect(await cli.exited).toBe(0);
    const real = cli
      .output()
      .stderr.split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.msg === 'fetched')!;
    expect(Object.keys(example)).toEqual(Object.keys(real));
    expect(example).toMatchObject({ level: real.level, service: real.service, source: real.source, outcome: real.outcome, msg: real.msg });
  });

  /** The shell commands of a "### heading" section, run with bash in `cwd`. */
  const runSection = (heading: string, cwd: string, env: Record<string, string> = {}) => {
    const script = fencedBlocks(operationsDoc.split(`\n### ${heading}\n`)[1]!, 'sh')[0]!;
    execFileSync('bash', ['-euo', 'pipefail', '-c', script], { cwd, env: { ...process.env, ...env }, stdio: 'pipe' });
  };

  it('backs up the embedded store while it is in use, and restores it, as it says', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'wirefeed-backup-'));
    chmodSync(folder, 0o755); // as root, the embedded server runs as another user, who must reach data/
    // `wirefeed` on the PATH, as an installed package puts it.
    const bin = mkdtempSync(join(tmpdir(), 'wirefeed-bin-'));
    writeFileSync(
      join(bin, 'wirefeed'),
      `#!/bin/sh\nexec "${process.execPath}" --import ${pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href} ${join(ROOT, 'src/cli.ts')} "$@"\n`,
      { mode: 0o755 },
    );
    const env = { PATH: `${bin}:${process.env.PATH}`, DATA_DIR: join(folder, 'data'), DATABASE_URL: '', LOG_LEVEL: 'silent' };
    const sources = loadConfig('feeds/demo').sources;
    const original = await openMigratedDatabase({ dataDir: join(folder, 'data') });
    await syncSources(original.db, sources);
    runSection('Backing up the embedded store', folder, env); // while `original` holds the store open
    await original.db.delete(sourcesTable); // after the backup: the restore must bring the sources back
    await original.close();
    runSection('Restoring the embedded store', folder, env);
    const restored = await openMigratedDatabase({ dataDir: join(folder, 'data') });
    try {
      expect((await sourceHealth(restored.db)).map((source) => source.id)).toEqual(sources.map((source) => source.id).sort());
    } finally {
      await restored.close();
    }
  });

  // pg_dump here is Debian's (15); it refuses the embedded server (18).
  it.skipIf(testEngine() !== 'postgres')('backs up and restores Postgres as it says', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'wirefeed-backup-'));
    const from = await createThrowawayDatabase(testServerUrl(), 'wirefeed_backup');
    const to = await createThrowawayDatabase(testServerUrl(), 'wirefeed_restore');
    try {
      const sources = loadConfig('feeds/demo').sources;
      const original = await openMigratedDatabase({ url: from.url });
      await syncSources(original.db, sources);
      await original.close();
      runSection('Backing up Postgres', folder, { DATABASE_URL: from.url });
      runSection('Restoring Postgres', folder, { DATABASE_URL: to.url });
      const restored = await openMigratedDatabase({ url: to.url });
      try {
        expect((await sourceHealth(restored.db)).map((source) => source.id)).toEqual(sources.map((source) => source.id).sort());
      } finally {
        await restored.close();
      }
    } finally {
      await from.drop();
      await to.drop();
    }
  });
});

describe('README.md', () => {
  it('documents the JSON Feed extension where the feeds point, with every key they write', async () => {
    const { renderFeed, topicChannel } = await import('../src/publish/render.js');
    const topic = { slug: 't', title: 'T', query: 'japan', limit: 5 };
    const { ownEntry } = await import('../src/model/story.js');
    const entry = ownEntry({ storyId: 's1', publishedAt: new Date(0), title: 'x', url: null, sourceId: 'a', sourceTitle: 'A' });
    const extension = JSON.parse(renderFeed('json', { channel: topicChannel('http://x', topic), entries: [entry] })).items[0]._wirefeed as Record<
      string,
      unknown
    >;
    const anchor = String(extension.about).split('#')[1]!;
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const heading = readme.split('\n').find(
      (line) =>
        line.startsWith('## ') &&
        line
          .slice(3)
          .toLowerCase()
          .replace(/[^a-z0-9]+/g, '-') === anchor,
    );
    expect(heading, `README heading for #${anchor}`).toBeDefined();
    const documented = [
      ...readme
        .split(heading!)[1]!
        .split('\n## ')[0]!
        .matchAll(/^\| `([a-z_]+)` \|/gm),
    ].map((match) => match[1]);
    expect(documented.sort()).toEqual(Object.keys(extension).sort());
  });

  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

  it('its config example loads', () => {
    const examples = fencedBlocks(readme, 'yaml');
    expect(examples.length).toBe(1);
    expect(loadConfig(writeConfigDir({ 'example.yml': examples[0]! })).topics.map((topic) => topic.slug)).toEqual(['japan-us-security']);
  });

  it('the demo ingest prints what it shows, twice', async () => {
    const demo = section(readme, 'The offline demo');
    const shown = [...demo.matchAll(/^# (sources: .*)$/gm)].map((match) => match[1]!);
    expect(shown).toHaveLength(2);
    const dataDir = mkdtempSync(join(tmpdir(), 'wirefeed-data-'));
    for (const expected of shown) {
      const cli = runCli(['ingest', '--once', '--config', 'feeds/demo'], { DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent' });
      expect(await cli.exited).toBe(0);
      expect(cli.output().stdout).toBe(`${expected}\n`);
    }
  });

  it('lists the commands there are, and every one of them', async () => {
    const listed = [...section(readme, 'Commands').matchAll(/^\| `(\w+)/gm)].map((match) => match[1]!);
    const cli = runCli(['--help'], { LOG_LEVEL: 'silent' });
    await cli.exited;
    const commands = [
      ...cli
        .output()
        .stdout.split('Commands:\n')[1]!
        .split('\n\n')[0]!
        .matchAll(/^ {2}(\w+) {2,}/gm),
    ].map((match) => match[1]!);
    expect([...new Set(listed)].sort()).toEqual(commands.sort());
  });
});
