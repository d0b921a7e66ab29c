/**
 * The namespace-aware, order-keeping layer between a feed document and rss-parser. rss-parser (through xml2js) knows
 * element prefixes, not namespace URIs, reads an element's text apart from its child elements, and rejects a whole
 * document for one bare "&". One linear pass over the document rewrites it into what rss-parser reads right:
 *
 * - every element and attribute is renamed by its namespace URI to the prefix rss-parser expects (a10:link bound
 *   to Atom is atom:link in RSS and link in Atom; <r:rss> is rss; a default namespace re-declared on an element
 *   counts like a prefix);
 * - markup inside an element whose content is text (title, description, summary, content, …) becomes escaped text,
 *   so "Rates <b>rise</b> again" reaches the HTML reader whole and in order;
 * - a bare "&" becomes "&amp;", an HTML entity (&nbsp;, &eacute;) its character reference;
 * - a stray end tag is dropped, an element left open is closed where its parent closes, and a document cut off
 *   keeps the items that were complete.
 *
 * What stays strict: a document with a DTD is passed through untouched (so declared entities, billion laughs and
 * XXE, are refused by the parser as before), and nothing is ever fetched or expanded.
 */
import { decodeHTML } from 'entities';
import { MAX_XML_DEPTH } from './xml-scan.js';

export const NAMESPACES = {
  atom: 'http://www.w3.org/2005/Atom',
  atom03: 'http://purl.org/atom/ns#',
  rss10: 'http://purl.org/rss/1.0/',
  rss09: 'http://my.netscape.com/rdf/simple/0.9/',
  rdf: 'http://www.w3.org/1999/02/22-rdf-syntax-ns#',
  dc: 'http://purl.org/dc/elements/1.1/',
  dcterms: 'http://purl.org/dc/terms/',
  content: 'http://purl.org/rss/1.0/modules/content/',
  media: 'http://search.yahoo.com/mrss/',
  itunes: 'http://www.itunes.com/dtds/podcast-1.0.dtd',
  xhtml: 'http://www.w3.org/1999/xhtml',
  xml: 'http://www.w3.org/XML/1998/namespace',
} as const;

/** The prefix rss-parser's field names use for each namespace we read ('' for none). */
const PREFIX_OF_URI = new Map<string, string>([
  [NAMESPACES.dc, 'dc'],
  [NAMESPACES.dcterms, 'dcterms'],
  [NAMESPACES.content, 'content'],
  [NAMESPACES.media, 'media'],
  [NAMESPACES.itunes, 'itunes'],
  [NAMESPACES.rdf, 'rdf'],
  [NAMESPACES.rss10, ''],
  [NAMESPACES.rss09, ''],
  [NAMESPACES.xml, 'xml'],
  [NAMESPACES.xhtml, 'xhtml'],
  // Other spellings publishers use for the same namespaces.
  ['http://purl.org/dc/elements/1.0/', 'dc'],
  ['http://www.itunes.com/DTDs/Podcast-1.0.dtd', 'itunes'],
  ['http://search.yahoo.com/mrss', 'media'],
]);

/** Elements whose content Wirefeed reads as text or HTML, by "prefix:local" after renaming, in any document. */
const NAMESPACED_TEXT_ELEMENTS = [
  'content:encoded',
  'dc:title',
  'dc:description',
  'dc:creator',
  'dc:subject',
  'dc:rights',
  'dcterms:abstract',
  'media:title',
  'media:description',
  'media:text',
  'media:credit',
  'media:keywords',
  'itunes:summary',
  'itunes:subtitle',
  'itunes:author',
  'itunes:keywords',
  'xhtml:body',
];
/** RSS and RDF text elements (Atom's inside RSS are atom:…); an XHTML <body> or Netscape's <fullitem> is full text. */
const RSS_TEXT_ELEMENTS = new Set([
  ...NAMESPACED_TEXT_ELEMENTS,
  'title',
  'description',
  'author',
  'category',
  'comments',
  'body',
  'fullitem',
  'atom:title',
  'atom:summary',
  'atom:content',
  'atom:subtitle',
  'atom:rights',
  'atom:name',
]);
/** Atom text constructs (an Atom <author> holds elements, its <name> text). */
const ATOM_TEXT_ELEMENTS = new Set([...NAMESPACED_TEXT_ELEMENTS, 'title', 'subtitle', 'summary', 'content', 'rights', 'name', 'tagline', 'info', 'copyright']);

/**
 * Microsoft's Channel Definition Format (1997), which feedparser still reads: <CHANNEL> and <ITEM> with HREF and
 * LASTMOD attributes and an <ABSTRACT>. It is read as the RSS it maps to.
 */
const CDF_NAMES: Record<string, string> = { channel: 'channel', item: 'item', title: 'title', abstract: 'description' };

/** What an item or entry is called after renaming: the units a truncated document is cut back to. */
const ITEM_ELEMENTS = new Set(['item', 'entry']);

const XML_ENTITIES = new Set(['amp', 'lt', 'gt', 'quot', 'apos']);

interface Open {
  /** The name written to the output. */
  name: string;
  /** Prefix -> URI in effect inside this element ('' is the default namespace); shared with the parent when the
   *  element declares none, so deep nesting costs no copying. */
  bindings: ReadonlyMap<string, string>;
}

const NO_BINDINGS: ReadonlyMap<string, string> = new Map();

const isSpace = (char: string | undefined) => char === ' ' || char === '\t' || char === '\n' || char === '\r';

/** Text with every "&" made valid XML: kept when it starts an XML reference, an HTML entity as its number, else escaped. */
function repairAmpersands(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[0-9]{1,7};|#x[0-9a-f]{1,6};|[a-z][a-z0-9]{1,31};)?/gi, (match, reference: string | undefined) => {
    if (!reference) return '&amp;';
    if (reference.startsWith('#') || XML_ENTITIES.has(reference.slice(0, -1))) return match;
    const decoded = decodeHTML(match);
    return decoded === match ? `&amp;${reference}` : [...decoded].map((char) => `&#${char.codePointAt(0)};`).join('');
  });
}

/**
 * Markup (and the text around it) inside a text element, as XML text whose value is that markup as HTML: what was
 * escaped once in the XML is escaped once more, so "&lt;blink&gt;" stays the text "<blink>" in the HTML.
 */
const asHtmlText = (xml: string) => repairAmpersands(xml).replace(/[&<>]/g, (char) => (char === '&' ? '&amp;' : char === '<' ? '&lt;' : '&gt;'));

/** A CDATA section inside mixed content: its literal text, as HTML text written as XML text. */
const cdataAsHtmlText = (section: string) =>
  asHtmlText(
    section
      .slice(9, section.endsWith(']]>') ? -3 : undefined)
      .replace(/&/g, '&amp;')
      .replace(/</g, '&lt;'),
  );

/** Copies from `start` to the end of `marker` (searched from `from`), or to the end; returns where copying stopped. */
function copyUntil(text: string, start: number, marker: string, from: number, out: string[]): number {
  const end = text.indexOf(marker, from);
  const stop = end < 0 ? text.length : end + marker.length;
  out.push(text.slice(start, stop));
  return stop;
}

/** name="value" pairs of a start tag's attribute text, or undefined when it does not read as attributes. */
function readAttributes(text: string): Array<{ name: string; quote: string; value: string }> | undefined {
  const attributes: Array<{ name: string; quote: string; value: string }> = [];
  let i = 0;
  for (;;) {
    while (isSpace(text[i])) i++;
    if (i >= text.length) return attributes;
    const equals = text.indexOf('=', i);
    if (equals < 0) return undefined;
    const name = text.slice(i, equals).trim();
    let open = equals + 1;
    while (isSpace(text[open])) open++;
    const quote = text[open];
    if (!name || /[\s"'<>]/.test(name) || (quote !== '"' && quote !== "'")) return undefined;
    const close = text.indexOf(quote, open + 1);
    if (close < 0) return undefined;
    attributes.push({ name, quote, value: text.slice(open + 1, close) });
    i = close + 1;
  }
}

/** The end of a start tag beginning at `start` ("<name"), honouring quoted values; -1 when it is not a tag. */
function tagEnd(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (char === '>') return i;
    if (char === '<') return -1;
    if (char === '"' || char === "'") {
      const close = text.indexOf(char, i + 1);
      if (close < 0) return -1;
      i = close;
    }
  }
  return -1;
}

function isNameStart(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  return (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) || code === 0x5f || code === 0x3a || code >= 0xc0;
}

export interface Revised {
  text: string;
  /** The document was cut off: what is read of it is its complete items, not all it would have had. */
  truncated: boolean;
}

/**
 * Decides, from an item's revised XML, whether the parse reads it; called for each complete item in document order.
 * An item left out is not in the revised text at all: rss-parser never builds it.
 */
export type KeepItem = (itemXml: string) => boolean;

/**
 * Rewrites a feed document as described above; returns it unchanged when it has a DTD or no root element. Linear in
 * the document's size: each character is copied or looked at a bounded number of times. Why it is long: one scanner
 * whose cursor and open-element stack all the steps share; split, they would pass that state around.
 */
export function reviseXml(text: string, keepItem?: KeepItem): Revised {
  const unchanged = { text, truncated: false };
  if (/<!DOCTYPE[^>]*\[/i.test(text.slice(0, 4096)) || /<!ENTITY/i.test(text.slice(0, 65_536))) return unchanged;
  const out: string[] = [];
  const stack: Open[] = [];
  const prefixOfUri = new Map(PREFIX_OF_URI);
  let isAtom = false;
  let isCdf = false;
  const cdfName = (written: string) => CDF_NAMES[written.toLowerCase()] ?? written.toLowerCase();
  let textDepth = -1; // stack depth of the text element being read, -1 when outside one
  let textStart = -1; // out.length when that element's content began
  let mixed = false; // whether markup has been met inside it: its text is then written as HTML text
  let openItem: { start: number; depth: number } | undefined; // where the item being read began, in out and stack
  let i = 0;

  const bindingsNow = () => stack.at(-1)?.bindings ?? NO_BINDINGS;
  const resolve = (qualified: string, bindings: ReadonlyMap<string, string>, isAttribute: boolean): string => {
    const colon = qualified.indexOf(':');
    const prefix = colon < 0 ? '' : qualified.slice(0, colon);
    const local = colon < 0 ? qualified : qualified.slice(colon + 1);
    if (prefix === 'xmlns' || qualified === 'xmlns') return qualified;
    if (isAttribute && colon < 0) return qualified; // unprefixed attributes have no namespace
    let uri = bindings.get(prefix);
    if (prefix === 'xml') uri = NAMESPACES.xml;
    if (uri === undefined) return qualified; // undeclared: as written
    if (uri === NAMESPACES.atom || uri === NAMESPACES.atom03) return isAtom ? local : `atom:${local}`;
    const canonical = prefixOfUri.get(uri);
    if (canonical === undefined) return qualified;
    return canonical ? `${canonical}:${local}` : local;
  };

  /** A tag inside a text element: from the first one on, the element's content is HTML written as text. */
  const markupInText = (tag: string) => {
    if (!mixed) {
      mixed = true;
      // What was written of this element so far was its text: write it again as HTML text.
      for (let index = textStart; index < out.length; index++) {
        const piece = out[index]!;
        out[index] = piece.startsWith('<![CDATA[') ? cdataAsHtmlText(piece) : piece.startsWith('<!--') ? piece : asHtmlText(piece);
      }
    }
    out.push(asHtmlText(tag));
  };

  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = text.slice(i, lt < 0 ? text.length : lt);
    if (chunk) out.push(mixed ? asHtmlText(chunk) : repairAmpersands(chunk));
    if (lt < 0) break;
    const next = text[lt + 1];
    if (text.startsWith('<!--', lt)) i = copyUntil(text, lt, '-->', lt + 4, out);
    else if (text.startsWith('<![CDATA[', lt)) {
      i = copyUntil(text, lt, ']]>', lt + 9, out);
      if (mixed) out.push(cdataAsHtmlText(out.pop()!));
    } else if (next === '?') i = copyUntil(text, lt, '?>', lt + 2, out);
    else if (next === '!') i = copyUntil(text, lt, '>', lt + 2, out);
    else if (next === '/') {
      const end = text.indexOf('>', lt);
      if (end < 0) break; // a cut-off end tag: the rest is dropped below
      const writtenEnd = text.slice(lt + 2, end).trim();
      const name = isCdf ? cdfName(writtenEnd) : resolve(writtenEnd, bindingsNow(), false);
      i = end + 1;
      // Close up to the matching open element (closing what was left open inside it). Inside a text element, an
      // end tag of no open element is markup (</b>); one of an ancestor (</item> after an unclosed <title>) ends
      // the text element too. Elsewhere a stray end tag is dropped.
      const match = stack.findLastIndex((open) => open.name === name);
      if (textDepth >= 0 && match < 0) {
        markupInText(text.slice(lt, end + 1));
        continue;
      }
      if (match < 0) continue;
      while (stack.length > match) {
        const closing = stack.pop()!;
        out.push(`</${closing.name}>`);
        if (stack.length === textDepth) {
          textDepth = -1;
          mixed = false;
        }
        if (openItem && stack.length === openItem.depth) {
          if (keepItem && !keepItem(out.slice(openItem.start).join(''))) out.length = openItem.start;
          openItem = undefined;
        }
      }
    } else if (isNameStart(next)) {
      const end = tagEnd(text, lt + 1);
      if (end < 0) {
        out.push('&lt;'); // a "<" that starts no tag is text
        i = lt + 1;
        continue;
      }
      i = end + 1;
      const selfClosing = text[end - 1] === '/';
      const body = text.slice(lt + 1, selfClosing ? end - 1 : end);
      let nameEnd = 0;
      while (nameEnd < body.length && !isSpace(body[nameEnd])) nameEnd++;
      const written = body.slice(0, nameEnd);
      if (textDepth >= 0) {
        markupInText(text.slice(lt, end + 1));
        continue;
      }
      const attributes = nameEnd === body.length ? [] : readAttributes(body.slice(nameEnd));
      const declared = attributes?.length ? attributes.filter((attribute) => attribute.name === 'xmlns' || attribute.name.startsWith('xmlns:')) : [];
      let bindings = bindingsNow();
      if (declared.length > 0) {
        const own = new Map(bindings);
        for (const attribute of declared) own.set(attribute.name === 'xmlns' ? '' : attribute.name.slice(6), attribute.value);
        bindings = own;
      }
      if (stack.length === 0) {
        const colon = written.indexOf(':');
        const own = bindings.get(colon < 0 ? '' : written.slice(0, colon));
        const local = written.slice(colon + 1);
        isAtom = own === NAMESPACES.atom || own === NAMESPACES.atom03 || written === 'feed';
        // An <rss> root in a namespace of its own (<r:rss xmlns:r="…">): that namespace is plain RSS.
        if (local === 'rss' && own !== undefined) prefixOfUri.set(own, '');
        isCdf = written.toLowerCase() === 'channel' && own === undefined;
        if (isCdf) out.push('<rss version="2.0">');
      }
      const name = isCdf ? cdfName(written) : resolve(written, bindings, false);
      const attributeText =
        attributes?.length === 0
          ? ''
          : attributes
            ? attributes
                .map((attribute) => ` ${resolve(attribute.name, bindings, true)}=${attribute.quote}${repairAmpersands(attribute.value)}${attribute.quote}`)
                .join('')
            : body.slice(nameEnd);
      if (!selfClosing && ITEM_ELEMENTS.has(name) && !openItem) openItem = { start: out.length, depth: stack.length };
      if (isCdf && (name === 'channel' || name === 'item')) {
        // CDF keeps the link and the date in attributes; RSS has elements for them.
        const attribute = (wanted: string) => attributes?.find((candidate) => candidate.name.toLowerCase() === wanted)?.value;
        const href = attribute('href');
        const lastmod = attribute('lastmod');
        const children = `${href ? `<link>${repairAmpersands(href)}</link>` : ''}${lastmod ? `<${name === 'item' ? 'pubDate' : 'lastBuildDate'}>${repairAmpersands(lastmod)}</${name === 'item' ? 'pubDate' : 'lastBuildDate'}>` : ''}`;
        out.push(selfClosing ? `<${name}>${children}</${name}>` : `<${name}>${children}`);
        if (!selfClosing) stack.push({ name, bindings });
        continue;
      }
      out.push(`<${name}${attributeText}${selfClosing ? '/' : ''}>`);
      if (!selfClosing) {
        stack.push({ name, bindings });
        if (stack.length > MAX_XML_DEPTH) return unchanged; // refused as too deep by the parse that follows
        if (
          (isAtom ? ATOM_TEXT_ELEMENTS : RSS_TEXT_ELEMENTS).has(name) &&
          !(isAtom && name === 'content' && attributes?.some((attribute) => attribute.name === 'src'))
        ) {
          textDepth = stack.length - 1;
          textStart = out.length;
        }
      }
    } else {
      out.push('&lt;');
      i = lt + 1;
    }
  }
  const truncated = stack.length > 0;
  if (truncated) {
    // Cut off: an item left open is dropped whole (the complete ones before it stay); then what was open is closed.
    if (openItem) {
      out.length = openItem.start;
      stack.length = openItem.depth;
    } else if (textDepth >= 0) {
      stack.length = textDepth + 1;
    }
    for (let level = stack.length - 1; level >= 0; level--) out.push(`</${stack[level]!.name}>`);
  }
  if (isCdf) out.push('</rss>');
  return { text: out.join(''), truncated };
}
