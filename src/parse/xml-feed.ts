import Parser from 'rss-parser';
import { FeedParseError, type ParsedFeed, type ParsedItem } from './types.js';

/** Raw fields rss-parser does not map (or maps lossily), kept as the document wrote them. */
const CUSTOM_FIELDS = {
  feed: ['language', 'dc:language'],
  item: [
    ['link', 'links', { keepArray: true }],
    ['category', 'atomCategories', { keepArray: true }],
    ['dc:subject', 'dcSubjects', { keepArray: true }],
    'dc:creator',
    'dc:date',
    'dc:language',
    'id',
    'published',
    'updated',
    'summary',
    'author',
    ['media:content', 'mediaContent', { keepArray: true }],
    ['media:thumbnail', 'mediaThumbnail', { keepArray: true }],
    'enclosure',
  ],
};

type Raw = Record<string, unknown>;

/** Text of an xml2js value: a string, {_: text}, or the first of an array. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() || undefined;
  if (Array.isArray(value)) return textOf(value[0]);
  if (value && typeof value === 'object') {
    const node = value as Raw;
    if (typeof node._ === 'string') return textOf(node._);
    if (node.name !== undefined) return textOf(node.name);
  }
  return undefined;
}

function attributes(value: unknown): Raw {
  return value && typeof value === 'object' && '$' in value ? ((value as Raw).$ as Raw) : {};
}

function asArray(value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

function detectFormat(text: string): ParsedFeed['format'] {
  const root = /<(?!\?|!)([\w:-]+)/.exec(text.replace(/<!--[\s\S]*?-->/g, ''))?.[1]?.toLowerCase();
  if (root === 'rss') return 'rss';
  if (root === 'rdf:rdf' || root === 'rdf') return 'rdf';
  if (root === 'feed') return 'atom';
  if (root === 'html') throw new FeedParseError('not a feed: got an HTML page');
  throw new FeedParseError(root ? `not a feed: unexpected root element <${root}>` : 'not a feed: no XML root element');
}

function links(item: Raw): { alternate?: string; short?: string } {
  let alternate: string | undefined;
  let short: string | undefined;
  for (const link of asArray(item.links)) {
    if (typeof link === 'string') {
      alternate ??= link.trim() || undefined;
      continue;
    }
    const { rel, href } = attributes(link) as { rel?: string; href?: string };
    if (!href) continue;
    if (rel === 'shortlink') short ??= href;
    else if (!rel || rel === 'alternate') alternate ??= href;
  }
  return { alternate: alternate ?? textOf(item.link), short };
}

function categories(item: Raw): string[] {
  const names = [
    ...asArray(item.categories).map(textOf),
    ...asArray(item.atomCategories).map((category) => textOf(category) ?? (attributes(category).term as string | undefined)),
    ...asArray(item.dcSubjects).map(textOf),
  ];
  return [...new Set(names.filter((name): name is string => !!name))];
}

function image(item: Raw): string | undefined {
  for (const media of [...asArray(item.mediaContent), ...asArray(item.mediaThumbnail)]) {
    const { url, medium, type } = attributes(media) as { url?: string; medium?: string; type?: string };
    if (url && (medium === 'image' || type?.startsWith('image/') || !medium)) return url;
  }
  const enclosure = item.enclosure as { url?: string; type?: string } | undefined;
  return enclosure?.type?.startsWith('image/') ? enclosure.url : undefined;
}

/** RSS 0.9x/1.0/2.0 and Atom through rss-parser; throws FeedParseError for anything that is not a feed. */
export async function parseXmlFeed(text: string): Promise<ParsedFeed> {
  const format = detectFormat(text);
  // A fresh Parser per document: a reused instance accepts input it should reject after a parse error.
  const parser = new Parser({ customFields: CUSTOM_FIELDS, defaultRSS: 2 } as ConstructorParameters<typeof Parser>[0]);
  let feed: Raw & { items?: Raw[] };
  try {
    feed = (await parser.parseString(text)) as unknown as Raw & { items?: Raw[] };
  } catch (error) {
    throw new FeedParseError(`invalid ${format.toUpperCase()} document: ${(error as Error).message.split('\n')[0]}`);
  }
  const rootLanguage = /^[^]*?<(?:feed|rss|rdf:RDF)\b[^>]*\bxml:lang="([^"]+)"/i.exec(text)?.[1];
  const baseUrl = /^[^]*?<(?:feed|rss|rdf:RDF)\b[^>]*\bxml:base="([^"]+)"/i.exec(text)?.[1];
  const feedLanguage = textOf(feed.language) ?? textOf(feed['dc:language']) ?? rootLanguage;
  const items = (feed.items ?? []).map((item): ParsedItem => {
    const { alternate, short } = links(item);
    const isAtom = format === 'atom';
    const content = textOf(item['content:encoded']) ?? (isAtom ? textOf(item.content) : undefined);
    const summary = isAtom ? textOf(item.summary) : textOf(item.content);
    return {
      guid: textOf(item.guid) ?? textOf(item.id) ?? textOf(item['rdf:about']),
      link: alternate,
      shortLink: short,
      title: textOf(item.title),
      contentHtml: content,
      summaryHtml: summary,
      dates: [item.pubDate, item['dc:date'], item.published, item.updated, item.isoDate]
        .map(textOf)
        .filter((date): date is string => !!date),
      author: textOf(item['dc:creator']) ?? textOf(item.creator) ?? textOf(item.author),
      categories: categories(item),
      language: textOf(item['dc:language']) ?? feedLanguage,
      imageUrl: image(item),
    };
  });
  return { format, title: textOf(feed.title), siteUrl: textOf(feed.link), language: feedLanguage, baseUrl, items };
}
