/** Adding sources to the YAML config (OPML import, `sources add`), keeping the files' comments and layout. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Document, isMap, isScalar, isSeq, parseDocument, visit, type YAMLMap, type YAMLSeq } from 'yaml';
import { UserError } from '../model/errors.js';
import type { ArticleRules, ScrapeRules, Source } from '../model/source.js';
import { trimEndOf } from '../model/text.js';
import { loadConfig, yamlFilesIn } from './load.js';

/** A feed to add as a source. */
export interface NewSource {
  url: string;
  /** The source id; default: made from the title or host. */
  id?: string;
  /** The id to give it if no other source has it (an OPML file's own), else one made as without `id`. */
  preferredId?: string;
  title?: string;
  /** How often it is fetched (`every`: 30s, 15m, 1h, 1d). */
  every?: string;
  priority?: number;
  /** Labels for topic queries (source:TAG): an OPML import's categories. */
  tags?: string[];
  /** The non-public ranges the feed needs (a feed on the local network, added on purpose), as `allowPrivateNetwork`. */
  allowPrivateNetwork?: string[];
  shortUrlHosts?: string[];
  /** Read the article of each new short item from its page (`fullText: true`), where these rules say if given. */
  fullText?: boolean | ArticleRules;
  /** The URL is a web page listing news, read by these rules (`scrape:`). */
  scrape?: ScrapeRules;
  /** HTTP Basic credentials: the user name, and the password as written into the file (a `${NAME}` reference). */
  username?: string;
  password?: string;
  /** Headers for the source's own site, as written into the file (values may be `${NAME}` references). */
  headers?: Record<string, string>;
  /** Topic queries deciding which items are stored (`keep`, `exclude`). */
  keep?: string;
  exclude?: string;
  /** Its items' own retention, as the YAML writes it (`items: 30d` or `never`, `keepPerSource`). */
  retention?: { items?: string; keepPerSource?: number };
  /** Added paused (`paused: true`): a muted feed of another reader's export. */
  paused?: boolean;
  /** Its `quietAfter`, as the YAML writes it (`2d` or `never`). */
  quietAfter?: string;
  /** Its own proxy URL, or false to go straight (another reader's per-feed proxy). */
  proxy?: string | false;
}

/** A new source as its entry in the YAML `sources:` list, keys in the order the docs list them. */
export function sourceEntry(feed: NewSource, id: string): Record<string, unknown> {
  const entry: Record<string, unknown> = { id, url: feed.url };
  if (feed.title) entry.title = feed.title;
  if (feed.every) entry.every = feed.every;
  if (feed.priority !== undefined && feed.priority !== 0) entry.priority = feed.priority;
  if (feed.tags?.length) entry.tags = feed.tags;
  if (feed.shortUrlHosts?.length) entry.shortUrlHosts = feed.shortUrlHosts;
  if (feed.allowPrivateNetwork?.length) entry.allowPrivateNetwork = feed.allowPrivateNetwork;
  if (feed.fullText) entry.fullText = feed.fullText;
  if (feed.scrape) entry.scrape = feed.scrape;
  if (feed.keep) entry.keep = feed.keep;
  if (feed.exclude) entry.exclude = feed.exclude;
  if (feed.retention) entry.retention = feed.retention;
  if (feed.username !== undefined) Object.assign(entry, { username: feed.username, password: feed.password });
  if (feed.headers && Object.keys(feed.headers).length > 0) entry.headers = feed.headers;
  if (feed.proxy !== undefined) entry.proxy = feed.proxy;
  if (feed.paused) entry.paused = true;
  if (feed.quietAfter) entry.quietAfter = feed.quietAfter;
  return entry;
}

/** Lower-case letters, digits and "-" of a text, accents dropped ("Le Monde — Économie" -> "le-monde-economie"). */
function idPart(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-') // one "-" for each run, so the ends below hold one at most
    .replace(/^-|-$/g, '')
    .slice(0, 40)
    .replace(/-$/, '');
}

/** Tags from a reader's category names ("World News" -> "world-news"); names without Latin letters or digits drop out. */
export function tagsFor(categories: readonly string[]): string[] {
  return [...new Set(categories.map(idPart).filter(Boolean))];
}

/**
 * A source id from a feed's title; when the title has too few Latin letters to name it (日本経済新聞), from its host
 * and path without "www." and the file extension (https://www.nikkei.com/rss/news.xml -> "nikkei-com-rss-news").
 */
export function sourceIdFor(feed: NewSource): string {
  const fromTitle = feed.title ? idPart(feed.title) : '';
  if (fromTitle.replace(/[^a-z]/g, '').length >= 3) return fromTitle;
  const url = new URL(feed.url);
  const path = url.pathname.replace(/\.[a-z0-9]+$/i, '');
  return idPart(`${url.hostname.replace(/^www\./, '')} ${path}`) || 'feed';
}

/** Two feed URLs are the same source when they differ only in case or trailing slashes. */
const urlIdentity = (url: string) => trimEndOf(url, '/').toLowerCase();

export interface AddResult {
  text: string;
  added: Array<{ id: string; url: string }>;
  skipped: Array<{ url: string; reason: string }>;
}

/**
 * Appends feeds as sources to a YAML file's `sources:` list. The file's own text is kept byte for byte: the new
 * entries are inserted as text after the list's last entry (or a `sources:` block is appended), so comments, aligned
 * inline comments and flow lists elsewhere stay as the operator wrote them. Feeds whose URL is already configured
 * (in any file: `existing`) are skipped, as are feeds that are not http(s).
 */
export function addSourcesToYaml(yamlText: string, feeds: readonly NewSource[], existing: readonly Source[]): AddResult {
  const document = parseDocument(yamlText);
  if (document.errors.length) throw new UserError(`cannot edit the YAML file: ${document.errors[0]!.message.split('\n')[0]}`);
  if (document.contents !== null && !isMap(document.contents)) throw new UserError('cannot edit the YAML file: its top level is not a mapping');
  const ids = new Set(existing.map((source) => source.id));
  const urls = new Set(existing.map((source) => urlIdentity(source.url)));
  // The next number to try per id base: 20,000 feeds of one title must not each count up from 2.
  const nextNumber = new Map<string, number>();
  const result: AddResult = { text: yamlText, added: [], skipped: [] };
  const entries: Array<Record<string, unknown>> = [];
  for (const feed of feeds) {
    if (!/^https?:\/\//i.test(feed.url)) {
      result.skipped.push({ url: feed.url, reason: 'not an http(s) URL' });
      continue;
    }
    if (urls.has(urlIdentity(feed.url))) {
      result.skipped.push({ url: feed.url, reason: 'already a source' });
      continue;
    }
    if (feed.id && ids.has(feed.id)) {
      result.skipped.push({ url: feed.url, reason: `source id "${feed.id}" is already used` });
      continue;
    }
    let id = feed.id ?? (feed.preferredId && !ids.has(feed.preferredId) ? feed.preferredId : sourceIdFor(feed));
    if (ids.has(id)) {
      const base = sourceIdFor(feed).slice(0, 36);
      let n = nextNumber.get(base) ?? 2;
      while (ids.has(`${base}-${n}`)) n++;
      id = `${base}-${n}`;
      nextNumber.set(base, n + 1);
    }
    ids.add(id);
    urls.add(urlIdentity(feed.url));
    entries.push(sourceEntry(feed, id));
    result.added.push({ id, url: feed.url });
  }
  if (entries.length > 0) result.text = insertSources(yamlText, document, entries);
  return result;
}

/** The entries as block-sequence lines, each indented by `indent`; short lists (tags, ranges) on one line. */
function entryLines(entries: ReadonlyArray<Record<string, unknown>>, indent: string): string {
  const document = new Document(entries);
  visit(document, {
    Seq(_key, node, path) {
      if (path.length > 1) node.flow = true;
    },
  });
  const lines = document.toString({ lineWidth: 0, flowCollectionPadding: false }).trimEnd().split('\n');
  return `${lines.map((line) => indent + line).join('\n')}\n`;
}

/** Where the line holding `offset` ends (after its newline), or the text's end. */
function endOfLine(text: string, offset: number): number {
  const newline = text.indexOf('\n', offset);
  return newline === -1 ? text.length : newline + 1;
}

/** Inserts the entries' text into the file's `sources:` list, or appends a `sources:` block; nothing else changes. */
function insertSources(text: string, document: ReturnType<typeof parseDocument>, entries: ReadonlyArray<Record<string, unknown>>): string {
  const withNewline = text === '' || text.endsWith('\n') ? text : `${text}\n`;
  const pair = isMap(document.contents) ? document.contents.items.find((item) => isScalar(item.key) && item.key.value === 'sources') : undefined;
  if (!pair) return `${withNewline}sources:\n${entryLines(entries, '  ')}`;
  const list = pair.value;
  const keyEnd = isScalar(pair.key) && pair.key.range ? pair.key.range[1] : 0;
  if (isSeq(list) && !list.flow && list.items.length > 0) {
    const last = list.items.at(-1) as { range?: [number, number, number] };
    const first = list.items[0] as { range?: [number, number, number] };
    const firstLineStart = text.lastIndexOf('\n', (first.range?.[0] ?? 1) - 1) + 1;
    const dash = text.indexOf('-', firstLineStart);
    const indent = dash > firstLineStart ? text.slice(firstLineStart, dash) : '';
    const at = endOfLine(withNewline, Math.max(0, (last.range?.[1] ?? withNewline.length) - 1));
    return withNewline.slice(0, at) + entryLines(entries, indent) + withNewline.slice(at);
  }
  if (list === null || list === undefined || (isScalar(list) && list.value === null)) {
    // "sources:" with nothing under it: the entries go after the key's line.
    const at = endOfLine(withNewline, keyEnd);
    return withNewline.slice(0, at) + entryLines(entries, '  ') + withNewline.slice(at);
  }
  if (isSeq(list) && list.items.length === 0 && list.range) {
    // "sources: []": the one change to an existing line is that its brackets go.
    const [from, to] = list.range;
    const without = trimEndOf(withNewline.slice(0, from), ' \t') + withNewline.slice(to);
    const at = endOfLine(without, keyEnd);
    return without.slice(0, at) + entryLines(entries, '  ') + without.slice(at);
  }
  // A non-empty flow list ("sources: [{…}]"): rewritten as a block list, the rest of the file kept.
  const items = (list as YAMLSeq).toJSON() as Array<Record<string, unknown>>;
  const lineEnd = endOfLine(withNewline, (list as YAMLSeq).range?.[1] ?? keyEnd);
  return `${withNewline.slice(0, keyEnd)}:\n${entryLines([...items, ...entries], '  ')}${withNewline.slice(lineEnd)}`;
}

/**
 * Adds feeds to a file of the config folder (default sources.yml), then loads the whole folder again: a result that
 * would not load is undone, so the config on disk always loads. Returns what was added and skipped, and the file.
 */
export function addSourcesToConfig(configDir: string, feeds: readonly NewSource[], into?: string): AddResult & { file: string } {
  const config = loadConfig(configDir);
  const file = into ?? join(config.dir, 'sources.yml');
  const before = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const result = addSourcesToYaml(before, feeds, config.sources);
  if (result.added.length === 0) return { ...result, file };
  writeLoadable(configDir, file, before, result.text);
  return { ...result, file };
}

/** Writes a config file's new text, then loads the whole folder again: a result that would not load is undone. */
function writeLoadable(configDir: string, file: string, before: string, text: string): void {
  writeFileSync(file, text);
  try {
    loadConfig(configDir);
  } catch (error) {
    writeFileSync(file, before);
    throw error;
  }
}

/** What setting a source's `paused` did to a file's text: the new text, or that it already said so. */
export type PauseEdit = { text: string; changed: boolean } | undefined;

/**
 * Sets or clears a source's `paused` in a YAML file's text, the rest kept byte for byte: in a block entry a
 * `paused: true` line after its `id` line goes in or out; in a flow entry (`{ id: …, url: … }`) the key goes in or is
 * set to false. Undefined when the file has no source of that id.
 */
export function setSourcePaused(yamlText: string, id: string, paused: boolean): PauseEdit {
  const document = parseDocument(yamlText);
  if (document.errors.length > 0 || !isMap(document.contents)) return undefined;
  const list = document.contents.get('sources', true);
  if (!isSeq(list)) return undefined;
  const entry = list.items.find((item): item is YAMLMap => isMap(item) && item.get('id') === id);
  if (!entry) return undefined;
  const pair = entry.items.find((item) => isScalar(item.key) && item.key.value === 'paused');
  const current = pair !== undefined && isScalar(pair.value) && pair.value.value === true;
  if (current === paused) return { text: yamlText, changed: false };
  const splice = (from: number, to: number, text: string) => ({ text: yamlText.slice(0, from) + text + yamlText.slice(to), changed: true });
  const value = pair && isScalar(pair.value) ? pair.value.range : undefined;
  if (entry.flow || (value && paused)) {
    if (value) return splice(value[0], value[1], String(paused));
    // Before the closing brace, after the entry's last value: "{ id: a, url: b }" -> "{ id: a, url: b, paused: true }".
    const at = trimEndOf(yamlText.slice(0, yamlText.lastIndexOf('}', entry.range![1])), ' \t\n').length;
    return splice(at, at, ', paused: true');
  }
  if (pair && isScalar(pair.key) && pair.key.range) {
    // The pair's own line (or lines) goes.
    const from = yamlText.lastIndexOf('\n', pair.key.range[0] - 1) + 1;
    return splice(from, endOfLine(yamlText, (value?.[1] ?? pair.key.range[1]) - 1), '');
  }
  const idPair = entry.items.find((item) => isScalar(item.key) && item.key.value === 'id')!;
  const key = idPair.key as { range: [number, number, number] };
  const column = key.range[0] - (yamlText.lastIndexOf('\n', key.range[0] - 1) + 1);
  const after = endOfLine(yamlText, ((idPair.value as { range?: [number, number, number] }).range?.[1] ?? key.range[1]) - 1);
  const newline = after === yamlText.length && !yamlText.endsWith('\n') ? '\n' : '';
  return splice(after, after, `${newline}${' '.repeat(column)}paused: true\n`);
}

/**
 * Pauses or resumes a source in the config folder's file that defines it, then loads the folder again (a result that
 * would not load is undone). The file, and whether it changed; UserError when no file defines the source.
 */
export function pauseSourceInConfig(configDir: string, id: string, paused: boolean): { file: string; changed: boolean } {
  const config = loadConfig(configDir);
  for (const file of yamlFilesIn(config.dir)) {
    const before = readFileSync(file, 'utf8');
    const edit = setSourcePaused(before, id, paused);
    if (!edit) continue;
    if (edit.changed) writeLoadable(configDir, file, before, edit.text);
    return { file, changed: edit.changed };
  }
  throw new UserError(`no source with id "${id}" in ${config.dir}`);
}
