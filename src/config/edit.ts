/** Adding sources to the YAML config (OPML import, `sources add`), keeping the files' comments and layout. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isMap, isSeq, parseDocument, YAMLSeq } from 'yaml';
import type { Source } from '../model/source.js';
import { loadConfig } from './load.js';

/** A feed to add as a source. */
export interface NewSource {
  url: string;
  /** The source id; default: made from the title or host. */
  id?: string;
  title?: string;
  /** The non-public ranges the feed needs (a feed on the local network, added on purpose), as `allowPrivateNetwork`. */
  allowPrivateNetwork?: string[];
}

/** A source id from a feed's title or host: lower-case letters, digits and "-". */
export function sourceIdFor(feed: NewSource): string {
  const base = (feed.title ?? new URL(feed.url).hostname.replace(/^www\./, ''))
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40);
  return base || 'feed';
}

/** Two feed URLs are the same source when they differ only in case or trailing slashes. */
const urlIdentity = (url: string) => url.replace(/\/+$/, '').toLowerCase();

export interface AddResult {
  text: string;
  added: Array<{ id: string; url: string }>;
  skipped: Array<{ url: string; reason: string }>;
}

/**
 * Appends feeds as sources to a YAML file's `sources:` list, keeping its comments and layout. Feeds whose URL is
 * already configured (in any file: `existing`) are skipped, as are feeds that are not http(s).
 */
export function addSourcesToYaml(yamlText: string, feeds: readonly NewSource[], existing: readonly Source[]): AddResult {
  const text = yamlText.trim() ? yamlText : 'sources: []\n';
  const document = parseDocument(text);
  if (document.errors.length) throw new Error(`cannot edit the YAML file: ${document.errors[0]!.message.split('\n')[0]}`);
  if (document.contents !== null && !isMap(document.contents)) throw new Error('cannot edit the YAML file: its top level is not a mapping');
  let list = document.get('sources', true);
  if (!isSeq(list)) {
    list = new YAMLSeq();
    document.set('sources', list);
  }
  const sequence = list as YAMLSeq;
  const ids = new Set(existing.map((source) => source.id));
  const urls = new Set(existing.map((source) => urlIdentity(source.url)));
  // The next number to try per id base: 20,000 feeds of one title must not each count up from 2.
  const nextNumber = new Map<string, number>();
  const result: AddResult = { text: '', added: [], skipped: [] };
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
    let id = feed.id ?? sourceIdFor(feed);
    if (ids.has(id)) {
      const base = sourceIdFor(feed).slice(0, 36);
      let n = nextNumber.get(base) ?? 2;
      while (ids.has(`${base}-${n}`)) n++;
      id = `${base}-${n}`;
      nextNumber.set(base, n + 1);
    }
    ids.add(id);
    urls.add(urlIdentity(feed.url));
    sequence.add(
      document.createNode({
        id,
        url: feed.url,
        ...(feed.title ? { title: feed.title } : {}),
        ...(feed.allowPrivateNetwork?.length ? { allowPrivateNetwork: feed.allowPrivateNetwork } : {}),
      }),
    );
    result.added.push({ id, url: feed.url });
  }
  // Block style for the list even when the file started as "sources: []".
  sequence.flow = false;
  result.text = document.toString({ lineWidth: 0 });
  return result;
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
  writeFileSync(file, result.text);
  try {
    loadConfig(configDir);
  } catch (error) {
    writeFileSync(file, before);
    throw error;
  }
  return { ...result, file };
}
