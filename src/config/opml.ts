/** OPML 2.0 in and out: what readers such as Miniflux and FreshRSS export and import. Pure functions. */
import { Parser } from 'htmlparser2';
import { UserError } from '../model/errors.js';
import type { Source } from '../model/source.js';
import { el, serializeXml } from '../model/xml.js';

export interface OpmlFeed {
  title?: string;
  xmlUrl: string;
  htmlUrl?: string;
  /** The folders it sits in and its category= paths, as the reader named them ("News", "Tech"). */
  categories: string[];
}

/** The names in an OPML 2.0 category attribute: comma-separated, slash-delimited paths ("/News/World,/Tech"). */
function categoryNames(attribute: string | undefined): string[] {
  return (attribute ?? '')
    .split(',')
    .flatMap((path) => path.split('/'))
    .map((name) => name.trim())
    .filter(Boolean);
}

/**
 * Every outline with an xmlUrl, at any depth, with the folders it is nested in (Miniflux, Feedly and Inoreader
 * export categories as folder outlines; FreshRSS and others also as category= attributes).
 */
export function parseOpml(text: string): OpmlFeed[] {
  const feeds: OpmlFeed[] = [];
  let sawOpml = false;
  // One entry per open outline: the folder's name, or undefined for a feed (or an unnamed outline).
  const open: Array<string | undefined> = [];
  const parser = new Parser(
    {
      onopentag(name, attributes) {
        if (name.toLowerCase() === 'opml') sawOpml = true;
        if (name.toLowerCase() !== 'outline') return;
        const lower = Object.fromEntries(Object.entries(attributes).map(([key, value]) => [key.toLowerCase(), value]));
        const title = (lower.title || lower.text)?.trim() || undefined;
        if (!lower.xmlurl) {
          open.push(title);
          return;
        }
        open.push(undefined);
        const folders = open.filter((folder): folder is string => folder !== undefined);
        const categories = [...new Set([...folders, ...categoryNames(lower.category)])];
        feeds.push({ xmlUrl: lower.xmlurl.trim(), title, htmlUrl: lower.htmlurl?.trim() || undefined, categories });
      },
      onclosetag(name) {
        if (name.toLowerCase() === 'outline') open.pop();
      },
    },
    { xmlMode: true, decodeEntities: true },
  );
  parser.write(text);
  parser.end();
  if (!sawOpml) throw new UserError('not an OPML document (no <opml> element): export the subscriptions from your reader as OPML');
  return feeds;
}

/** One feed in an OPML document we write. */
export interface OpmlOutline {
  title: string;
  xmlUrl: string;
  htmlUrl?: string;
  description?: string;
}

/** An OPML 2.0 document listing feeds: the one writer for our sources (opml export) and our topics (/opml). */
export function renderOpml(head: { title: string; dateCreated?: Date; dateModified?: Date }, outlines: readonly OpmlOutline[]): string {
  return serializeXml(
    el(
      'opml',
      { version: '2.0' },
      el(
        'head',
        {},
        el('title', {}, head.title),
        head.dateCreated && el('dateCreated', {}, head.dateCreated.toUTCString()),
        head.dateModified && el('dateModified', {}, head.dateModified.toUTCString()),
        el('docs', {}, 'http://opml.org/spec2.opml'),
      ),
      el(
        'body',
        {},
        outlines.map((outline) =>
          el('outline', {
            type: 'rss',
            text: outline.title,
            title: outline.title,
            xmlUrl: outline.xmlUrl,
            htmlUrl: outline.htmlUrl,
            description: outline.description,
          }),
        ),
      ),
    ),
  );
}

/** The sources that are feeds, as OPML: a page read by `scrape` rules is no feed another reader could subscribe to. */
export function renderSourcesOpml(sources: readonly Source[], dateCreated: Date): string {
  return renderOpml(
    { title: 'Wirefeed sources', dateCreated },
    sources.filter((source) => !source.scrape).map((source) => ({ title: source.title ?? source.id, xmlUrl: source.url })),
  );
}
