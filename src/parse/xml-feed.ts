import { createRequire } from 'node:module';
import Parser from 'rss-parser';
import { escapeHtml } from '../model/escape.js';
import type { Enclosure } from '../model/item.js';
import { type HubLinks, noteHubLink } from '../model/source.js';
import { FeedParseError, type ParsedFeed, type ParsedItem } from './types.js';
import { type KeepItem, reviseXml } from './xml-revise.js';
import { MAX_XML_DEPTH, scanXml, type XmlOutline } from './xml-scan.js';

/**
 * rss-parser makes a contentSnippet of every description and content by stripping HTML with lazy regular
 * expressions that backtrack quadratically (120 KB of "a<p" in one description took 11 s). Wirefeed never reads
 * snippets (normalize/ makes its own text), so the library's snippet maker is replaced, once, for every parser.
 */
const rssParserUtils = createRequire(import.meta.url)('rss-parser/lib/utils.js') as { getSnippet(html: string): string };
rssParserUtils.getSnippet = () => '';

/** Raw fields rss-parser does not map (or maps lossily), kept as the document wrote them. */
const CUSTOM_FIELDS = {
  feed: [
    ['title', 'titleNode', { keepArray: true }],
    'ttl',
    ['skipHours', 'skipHours', { keepArray: true }],
    ['skipDays', 'skipDays', { keepArray: true }],
    // Atom's own links and atom:link inside an RSS channel: the WebSub hub and self links.
    ['link', 'feedLinks', { keepArray: true }],
    ['atom:link', 'feedAtomLinks', { keepArray: true }],
    'language',
    'dc:language',
    'updated',
    'modified',
    'dc:date',
    'dcterms:modified',
    'dcterms:issued',
    'dcterms:created',
    'pubDate',
    'lastBuildDate',
  ],
  item: [
    // keepArray: rss-parser reduces a single node to its text, dropping the type/mode attributes we need.
    ['title', 'titleNode', { keepArray: true }],
    ['guid', 'guidNode', { keepArray: true }],
    ['content', 'contentNode', { keepArray: true }],
    ['summary', 'summaryNode', { keepArray: true }],
    'dc:description',
    'xhtml:body',
    'body',
    'fullitem',
    'media:description',
    'media:title',
    'itunes:summary',
    'itunes:author',
    'media:credit',
    'itunes:keywords',
    ['itunes:category', 'itunesCategories', { keepArray: true }],
    'media:keywords',
    ['$', 'attributes', { keepArray: true }],
    ['link', 'links', { keepArray: true }],
    ['atom:link', 'atomLinks', { keepArray: true }],
    ['category', 'atomCategories', { keepArray: true }],
    ['dc:subject', 'dcSubjects', { keepArray: true }],
    'dc:creator',
    'dc:author',
    'dc:date',
    // Atom elements inside RSS items (.NET's SyndicationFeed writes a10:updated and a10:author), by namespace URI.
    'atom:published',
    'atom:updated',
    ['atom:author', 'atomAuthor', { keepArray: true }],
    'dc:language',
    'id',
    'published',
    // An entry that repeats these means its latest (feedparser reads the last one too).
    ['updated', 'updatedNodes', { keepArray: true }],
    'issued',
    ['modified', 'modifiedNodes', { keepArray: true }],
    ['created', 'createdNodes', { keepArray: true }],
    'dcterms:issued',
    'dcterms:modified',
    'dcterms:created',
    'summary',
    'author',
    ['media:content', 'mediaContent', { keepArray: true }],
    // YouTube and others put the media, its thumbnail and its description in a <media:group>.
    ['media:group', 'mediaGroup', { keepArray: true }],
    ['media:thumbnail', 'mediaThumbnail', { keepArray: true }],
    'enclosure',
    ['enclosure', 'enclosureNodes', { keepArray: true }],
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

/** All text inside an xml2js node, for inline XHTML (xml2js keeps text and child elements apart). */
function nodeText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(nodeText).join('');
  if (value && typeof value === 'object') {
    return Object.entries(value as Raw)
      .filter(([key]) => key !== '$')
      .map(([key, child]) => (key === '_' ? String(child) : nodeText(child)))
      .join('');
  }
  return '';
}

/** An Atom text construct's type that is neither text nor XML: its content is base64 (RFC 4287 3.1.1.3). */
const isBinaryType = (type: string) => /\//.test(type) && !/^text\/|[+/]xml$/i.test(type);

/**
 * A title as text or HTML. Atom says which (type="text" by default, "html", "xhtml"; Atom 0.3 also mode="base64"
 * or "escaped"); RSS titles are treated as HTML since publishers escape markup into them.
 */
function titleOf(nodes: unknown, isAtom: boolean): { title?: string; titleType: 'text' | 'html' } {
  const node = Array.isArray(nodes) ? nodes[0] : nodes;
  const defaultType = isAtom ? 'text' : 'html';
  if (typeof node === 'string') return { title: node, titleType: defaultType };
  if (!node || typeof node !== 'object') return { titleType: defaultType };
  const { type = '', mode = '' } = attributes(node) as { type?: string; mode?: string };
  const text = typeof (node as Raw)._ === 'string' ? ((node as Raw)._ as string) : undefined;
  const hasChildren = Object.keys(node).some((key) => key !== '$' && key !== '_');
  // Atom 0.3 mode="base64", or an Atom 1.0 type that is neither text nor XML (RFC 4287 3.1.1.3: base64 then).
  const isBase64 = mode === 'base64' || isBinaryType(type);
  if (isBase64 && text) return { title: Buffer.from(text, 'base64').toString('utf8'), titleType: /html/.test(type) ? 'html' : 'text' };
  // XHTML arrives as escaped markup (see xml-revise): HTML to read as such.
  if (hasChildren || /xhtml/.test(type)) return { title: nodeText(node), titleType: 'html' };
  return { title: text, titleType: /html/.test(type) || mode === 'escaped' ? 'html' : defaultType };
}

function attributes(value: unknown): Raw {
  return value && typeof value === 'object' && '$' in value ? ((value as Raw).$ as Raw) : {};
}

function asArray(value: unknown): unknown[] {
  return value === undefined || value === null ? [] : Array.isArray(value) ? value : [value];
}

function detectFormat(root: XmlOutline['root']): ParsedFeed['format'] {
  const name = root?.name.toLowerCase();
  if (name === 'rss') return 'rss';
  if (name === 'rdf:rdf' || name === 'rdf') return 'rdf';
  if (name === 'feed') return 'atom';
  if (name === 'html') throw new FeedParseError('not a feed: got an HTML page');
  throw new FeedParseError(name ? `not a feed: unexpected root element <${name}>` : 'not a feed: no XML root element');
}

/**
 * The article link: an RSS <link>, or an Atom link whose rel is alternate (or absent), the HTML one first when there
 * are several. self, edit, replies, enclosure, related and via links never are the article.
 */
function links(item: Raw): { alternate?: string; short?: string } {
  let alternate: string | undefined;
  let html: string | undefined;
  let short: string | undefined;
  for (const link of [...asArray(item.links), ...asArray(item.atomLinks)]) {
    if (typeof link === 'string') {
      alternate ??= link.trim() || undefined;
      continue;
    }
    const { rel = 'alternate', href, type } = attributes(link) as { rel?: string; href?: string; type?: string };
    if (!href?.trim()) continue;
    if (rel === 'shortlink') short ??= href.trim();
    else if (rel === 'alternate') {
      alternate ??= href.trim();
      if (!type || /html/i.test(type)) html ??= href.trim();
    }
  }
  return { alternate: html ?? alternate, short };
}

/** The feed's WebSub links: the first hub and self link among its own (a rel may list several relations). */
function pushLinks(feed: Raw): HubLinks | undefined {
  const found: HubLinks = {};
  for (const link of [...asArray(feed.feedLinks), ...asArray(feed.feedAtomLinks)]) {
    if (typeof link === 'string') continue;
    const { rel, href } = attributes(link) as { rel?: string; href?: string };
    const url = href?.trim();
    if (url && rel) noteHubLink(found, rel, url);
  }
  return found.hub ? found : undefined;
}

/** A guid is the article's link only when it says so (isPermaLink absent or true) and is an absolute http(s) URL. */
function guidOf(item: Raw): { guid?: string; guidIsLink: boolean } {
  const node = asArray(item.guidNode)[0];
  const guid = textOf(node) ?? textOf(item.id) ?? textOf(item['rdf:about']);
  const permaLink =
    String(attributes(node).isPermaLink ?? 'true')
      .trim()
      .toLowerCase() !== 'false';
  return { guid, guidIsLink: node !== undefined && permaLink && /^https?:\/\/[^\s]+$/i.test(guid ?? '') };
}

/** The first text of these fields, in order of preference. */
const firstText = (item: Raw, ...fields: string[]) => fields.map((field) => textOf(item[field])).find((text) => text !== undefined);

/**
 * An Atom text construct (content, summary): as the document wrote it, or, when Atom 0.3's mode="base64" or a
 * type that is neither text nor XML says it is base64, decoded if it is text, dropped if not; never garbage.
 */
function textConstruct(node: unknown): { text?: string; isHtml: boolean } {
  if (node === undefined) return { isHtml: false };
  const { type = 'text', mode = '' } = attributes(node) as { type?: string; mode?: string };
  const text = typeof node === 'string' ? node : textOf(node);
  if (mode === 'base64' || isBinaryType(type)) {
    const bytes = Buffer.from(text ?? '', 'base64');
    const decoded = bytes.toString('utf8');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what tells binary from text here
    const readable = bytes.length > 0 && !decoded.includes('\uFFFD') && !/[\u0000-\u0008\u000E-\u001F]/.test(decoded);
    return readable ? { text: decoded, isHtml: /html/i.test(type) } : { isHtml: false };
  }
  return { text, isHtml: /html/i.test(type) || mode === 'escaped' };
}

function categories(item: Raw): string[] {
  const keywords = (field: string) => (textOf(item[field]) ?? '').split(',').map((keyword) => keyword.trim());
  const names = [
    ...asArray(item.categories).map(textOf),
    ...asArray(item.atomCategories).map((category) => textOf(category) ?? (attributes(category).term as string | undefined)),
    ...asArray(item.dcSubjects).map(textOf),
    ...keywords('itunes:keywords'),
    ...keywords('media:keywords'),
    ...podcastCategories(item.itunesCategories),
  ];
  return [...new Set(names.filter((name): name is string => !!name))];
}

/**
 * iTunes categories by their `text` attribute, a subcategory after its category (`<itunes:category text="Technology">
 * <itunes:category text="Gadgets"/></itunes:category>`: Apple's lists nest one level, so deeper ones are not read).
 */
function podcastCategories(nodes: unknown): Array<string | undefined> {
  return asArray(nodes).flatMap((node) => {
    const text = attributes(node).text as string | undefined;
    const subcategories = asArray((node as Raw | undefined)?.['itunes:category']).map((sub) => attributes(sub).text as string | undefined);
    return [text?.trim(), ...subcategories.map((sub) => sub?.trim())];
  });
}

/** Every attached medium: RSS enclosures, Atom enclosure links (also inside RSS), Media RSS audio and video. */
function enclosures(item: Raw): Enclosure[] {
  const found = new Map<string, Enclosure>();
  const add = (url: unknown, type: unknown, length: unknown) => {
    const href = typeof url === 'string' ? url.trim() : '';
    if (!href || found.has(href)) return;
    const size = Number(length);
    found.set(href, {
      url: href,
      ...(typeof type === 'string' && type.trim() ? { type: type.trim() } : {}),
      ...(Number.isSafeInteger(size) && size > 0 ? { length: size } : {}),
    });
  };
  for (const node of asArray(item.enclosureNodes)) {
    const { url, type, length } = attributes(node);
    add(url, type, length);
  }
  for (const link of [...asArray(item.links), ...asArray(item.atomLinks)]) {
    const { rel, href, type, length } = attributes(link);
    if (rel === 'enclosure') add(href, type, length);
  }
  for (const media of asArray(item.mediaContent)) {
    const { url, medium, type, fileSize } = attributes(media) as Record<string, string | undefined>;
    if (medium === 'audio' || medium === 'video' || /^(audio|video)\//.test(type ?? '')) add(url, type, fileSize);
  }
  return [...found.values()];
}

function image(item: Raw): string | undefined {
  for (const media of [...asArray(item.mediaContent), ...asArray(item.mediaThumbnail)]) {
    const { url, medium, type } = attributes(media) as { url?: string; medium?: string; type?: string };
    if (url && (medium === 'image' || type?.startsWith('image/') || (!medium && !type))) return url;
  }
  const enclosure = item.enclosure as { url?: string; type?: string } | undefined;
  return enclosure?.type?.startsWith('image/') ? enclosure.url : undefined;
}

/**
 * rss-parser turns an Atom entry's <published> into a Date and calls toISOString(), so one unparseable date throws a
 * RangeError that rejects the whole feed. Parse such an entry without its dates; we read the raw strings ourselves.
 */
function tolerateBadAtomDates(parser: object): void {
  const target = parser as unknown as { parseItemAtom(entry: Raw): Raw };
  const parseItemAtom = target.parseItemAtom.bind(parser);
  target.parseItemAtom = (entry) => {
    try {
      return parseItemAtom(entry);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      const { published, updated, ...rest } = entry;
      return { ...parseItemAtom(rest), published: textOf(published), updatedNodes: asArray(updated) };
    }
  };
}

/** How much of the document sax is given at a time; between slices the event loop runs (the server answers). */
const SLICE_CHARS = 64 * 1024;
/** A parse still running after this long is given up: no real feed within the size cap takes a tenth of it. */
export const PARSE_DEADLINE_MS = 20_000;

interface Xml2jsParser {
  saxParser: { write(chunk: string): unknown; close(): unknown; errThrown?: boolean };
  reset(): void;
  on(event: 'end', listener: (result: unknown) => void): void;
  on(event: 'error', listener: (error: Error) => void): void;
  parseString(text: string, callback: (error: Error | null, result?: unknown) => void): void;
}

/**
 * xml2js hands the whole document to sax in one synchronous call (a 15 MiB feed held the event loop for half a
 * second), and its own `async` option loses exceptions thrown by rss-parser's callback, so the parse never settles.
 * This feeds sax slice by slice instead, yielding to the event loop between slices, under a deadline.
 */
function parseInSlices(parser: object): void {
  const xml = (parser as unknown as { xmlParser: Xml2jsParser }).xmlParser;
  xml.parseString = (text, callback) => {
    let settled = false;
    const settle = (error: Error | null, result?: unknown) => {
      if (settled) return;
      settled = true;
      xml.reset();
      try {
        callback(error, result);
      } catch (thrown) {
        callback(thrown as Error); // rss-parser throws from its callback (no <channel>): reject instead of hanging
      }
    };
    xml.on('end', (result) => settle(null, result));
    xml.on('error', (error) => settle(error));
    const sax = xml.saxParser;
    const started = Date.now();
    void (async () => {
      for (let offset = 0; offset < text.length && !settled; offset += SLICE_CHARS) {
        sax.write(text.slice(offset, offset + SLICE_CHARS));
        if (settled || sax.errThrown) return;
        if (Date.now() - started > PARSE_DEADLINE_MS) return settle(new Error(`gave up after ${PARSE_DEADLINE_MS / 1000} s`));
        await new Promise((resolve) => setImmediate(resolve));
      }
      if (!settled) sax.close();
    })().catch((error: Error) => settle(error));
  };
}

/**
 * RSS 0.9x/1.0/2.0 and Atom through rss-parser; throws FeedParseError for anything that is not a feed. Why it is long:
 * it maps every field of rss-parser's output to ours in one place, where a reader checks them against each other.
 */
export async function parseXmlFeed(original: string, keepItem?: KeepItem): Promise<ParsedFeed> {
  const { text, truncated } = reviseXml(original, keepItem);
  const outline = scanXml(text, MAX_XML_DEPTH);
  const format = detectFormat(outline.root);
  if (outline.tooDeep) throw new FeedParseError(`invalid ${format.toUpperCase()} document: elements nested deeper than ${MAX_XML_DEPTH} levels`);
  // A fresh Parser per document: a reused instance accepts input it should reject after a parse error.
  const parser = new Parser({ customFields: CUSTOM_FIELDS, defaultRSS: 2 } as ConstructorParameters<typeof Parser>[0]);
  tolerateBadAtomDates(parser);
  parseInSlices(parser);
  let feed: Raw & { items?: Raw[] };
  try {
    feed = (await parser.parseString(text)) as unknown as Raw & { items?: Raw[] };
  } catch (error) {
    // A TypeError comes after the XML itself parsed: rss-parser found no <channel>. An RSS document without one is
    // an empty feed (as feedparser reads it), not a broken one.
    if (error instanceof TypeError && format !== 'atom' && !outline.hasChannel) return { format, titleType: 'html', items: [] };
    throw new FeedParseError(`invalid ${format.toUpperCase()} document: ${(error as Error).message.split('\n')[0]}`);
  }
  const rootLanguage = outline.root?.attributes['xml:lang'] || undefined;
  const baseUrl = outline.root?.attributes['xml:base'] || undefined;
  const feedLanguage = textOf(feed.language) ?? textOf(feed['dc:language']) ?? rootLanguage;
  const items = (feed.items ?? []).map((item): ParsedItem => {
    const { alternate, short } = links(item);
    const isAtom = format === 'atom';
    const atomContent = isAtom ? textConstruct(asArray(item.contentNode)[0]) : undefined;
    const atomSummary = isAtom ? textConstruct(asArray(item.summaryNode)[0]) : undefined;
    const content = firstText(item, 'content:encoded', 'xhtml:body', 'body', 'fullitem') ?? (atomContent?.isHtml ? atomContent.text : undefined);
    // Plain-text Atom content is text; escaped for the HTML the rest of the pipeline reads.
    const plainContent = atomContent && !atomContent.isHtml ? atomContent.text : undefined;
    const summary = isAtom
      ? atomSummary?.text !== undefined && !atomSummary.isHtml
        ? escapeHtml(atomSummary.text)
        : atomSummary?.text
      : (textOf(item.content) ?? firstText(item, 'dc:description', 'media:description', 'itunes:summary'));
    const group = (asArray(item.mediaGroup)[0] ?? {}) as Raw;
    const { guid, guidIsLink } = guidOf(item);
    const title = titleOf(item.titleNode ?? item.title, isAtom);
    // A video feed's item may be titled by its medium alone (Media RSS's title, plain text by default).
    const mediaTitle = title.title === undefined ? (firstText(item, 'media:title') ?? firstText(group, 'media:title')) : undefined;
    return {
      guid,
      guidIsLink,
      link: alternate,
      shortLink: short,
      ...(mediaTitle !== undefined ? { title: mediaTitle, titleType: 'text' as const } : title),
      contentHtml: content ?? (plainContent !== undefined ? escapeHtml(plainContent) : undefined),
      summaryHtml: summary ?? (firstText(group, 'media:description') !== undefined ? escapeHtml(firstText(group, 'media:description')!) : undefined),
      dates: [
        item.pubDate,
        item['dc:date'],
        item['atom:published'],
        item['atom:updated'],
        item.published,
        item.issued,
        item['dcterms:issued'],
        asArray(item.createdNodes).at(-1),
        item['dcterms:created'],
        asArray(item.updatedNodes).at(-1),
        asArray(item.modifiedNodes).at(-1),
        item['dcterms:modified'],
      ]
        .map(textOf)
        .filter((date): date is string => !!date),
      author:
        firstText(item, 'dc:creator', 'dc:author', 'creator', 'author') ??
        textOf((asArray(item.atomAuthor)[0] as Raw | undefined)?.['atom:name']) ??
        firstText(item, 'itunes:author', 'media:credit'),
      categories: categories(item),
      language: textOf(item['dc:language']) ?? textOf((item.attributes as Raw | undefined)?.['xml:lang']) ?? feedLanguage,
      baseUrl: textOf((item.attributes as Raw | undefined)?.['xml:base']),
      imageUrl: image(item) ?? image({ mediaContent: group['media:content'], mediaThumbnail: group['media:thumbnail'] }),
      enclosures: enclosures(item),
    };
  });
  const updated = ['lastBuildDate', 'updated', 'modified', 'dc:date', 'dcterms:modified', 'pubDate', 'dcterms:issued', 'dcterms:created']
    .map((key) => textOf(feed[key]))
    .find(Boolean);
  const feedTitle = titleOf(feed.titleNode ?? feed.title, format === 'atom');
  const ttl = Number(textOf(feed.ttl));
  const listed = (container: unknown, child: string) =>
    asArray(container)
      .flatMap((node) => asArray((node as Raw | undefined)?.[child]).map(textOf))
      .filter((value): value is string => !!value);
  const skipHours = listed(feed.skipHours, 'hour')
    .map(Number)
    .filter((hour) => Number.isInteger(hour) && hour >= 0 && hour <= 24)
    .map((hour) => hour % 24);
  const skipDays = listed(feed.skipDays, 'day');
  const push = pushLinks(feed);
  return {
    format,
    title: feedTitle.title,
    titleType: feedTitle.titleType,
    // Atom's alternate link (rel absent or alternate), not its first: rss-parser takes the first (a hub or self link).
    siteUrl: links({ links: feed.feedLinks, atomLinks: feed.feedAtomLinks }).alternate ?? textOf(feed.link),
    language: feedLanguage,
    baseUrl,
    updated,
    ...(ttl > 0 ? { ttlMinutes: ttl } : {}),
    ...(skipHours.length ? { skipHours } : {}),
    ...(skipDays.length ? { skipDays } : {}),
    ...(push ? { push } : {}),
    items,
    ...(truncated ? { truncated, warnings: [`the document is cut off: its ${items.length} complete items were read`] } : {}),
  };
}
