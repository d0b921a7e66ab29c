import { Parser } from 'htmlparser2';
import sanitizeHtml from 'sanitize-html';
import { resolveHttpUrl, withoutTrackingParams } from './url.js';

/** Players we let through as iframes; everything else that embeds a page is dropped. */
const EMBED_HOSTS = ['www.youtube.com', 'www.youtube-nocookie.com', 'player.vimeo.com'];

const ALLOWED_TAGS = [
  'a',
  'abbr',
  'b',
  'blockquote',
  'br',
  'caption',
  'cite',
  'code',
  'dd',
  'del',
  'dfn',
  'div',
  'dl',
  'dt',
  'em',
  'figcaption',
  'figure',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'hr',
  'i',
  'iframe',
  'img',
  'ins',
  'kbd',
  'li',
  'mark',
  'ol',
  'p',
  'picture',
  'pre',
  'q',
  'rp',
  'rt',
  'ruby',
  's',
  'samp',
  'small',
  'source',
  'span',
  'strong',
  'sub',
  'sup',
  'table',
  'tbody',
  'td',
  'tfoot',
  'th',
  'thead',
  'time',
  'tr',
  'u',
  'ul',
  'var',
  'audio',
  'video',
];

/**
 * Where feeds' tracker images come from, whatever size they claim: hosts (and their subdomains), or a host and the
 * paths under it. Counters and ad networks that publishing tools and feed services put in items.
 */
const TRACKER_IMAGES: ReadonlyArray<{ host: string; path?: string }> = [
  { host: 'stats.wordpress.com' }, // WordPress.com and Jetpack statistics
  { host: 'pixel.wp.com' },
  { host: 'feeds.feedburner.com', path: '/~r/' }, // FeedBurner's per-item counter
  { host: 'feeds.feedburner.com', path: '/~ff/' }, // and its "flare" share buttons
  { host: 'feedsportal.com' }, // an ad network of old feed services
  { host: 'www.facebook.com', path: '/tr' }, // Meta's pixel
  { host: 'www.google-analytics.com' },
  { host: 'ssl.google-analytics.com' },
  { host: 'sb.scorecardresearch.com' }, // comScore
  { host: 'pixel.quantserve.com' },
  { host: 'medium.com', path: '/_/stat' }, // Medium's read counter in every feed item
];

function isTrackerImage(src: string): boolean {
  const url = new URL(src);
  const host = url.hostname.toLowerCase();
  return TRACKER_IMAGES.some(
    (tracker) => (host === tracker.host || host.endsWith(`.${tracker.host}`)) && (tracker.path === undefined || url.pathname.startsWith(tracker.path)),
  );
}

/** A counter's image: one pixel (or none) wide or high, or from a tracker's host. `src` is absolute http(s). */
function isTrackingPixel(attribs: Record<string, string>): boolean {
  return attribs.width === '1' || attribs.height === '1' || attribs.width === '0' || attribs.height === '0' || isTrackerImage(attribs.src!);
}

/** Deeper than any real article; htmlparser2 keeps its open elements with Array#unshift, quadratic in the depth. */
export const MAX_HTML_DEPTH = 256;
const VOID_TAGS = new Set(['area', 'base', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'param', 'source', 'track', 'wbr']);
/** A start or end tag; [^<>]* stops at the next "<", so a failed match never rescans what a later one reads. */
const TAG = /<(\/?)([a-z][a-z0-9-]*)[^<>]*>/gi;

/**
 * True when elements are left open deeper than `depth`, or there are more than `elements` start tags (a linear scan
 * that stops at the first excess; end tags close, void elements do not open).
 */
export function exceedsHtmlBounds(html: string, bounds: { depth: number; elements?: number }): boolean {
  let depth = 0;
  let elements = 0;
  for (const [tag, closing, name] of html.matchAll(TAG)) {
    if (closing) depth = Math.max(0, depth - 1);
    else if (++elements > (bounds.elements ?? Number.POSITIVE_INFINITY)) return true;
    else if (!VOID_TAGS.has(name!.toLowerCase()) && !tag.endsWith('/>') && ++depth > bounds.depth) return true;
  }
  return false;
}

/**
 * HTML the parsers can take in linear time: as it is, or, when it nests deeper than any real article (hostile or
 * broken markup such as thousands of unclosed <b>), its text with every tag dropped.
 */
function shallowHtml(html: string): string {
  return exceedsHtmlBounds(html, { depth: MAX_HTML_DEPTH }) ? html.replace(TAG, ' ').replace(/</g, '&lt;') : html;
}

/** The tags of simple HTML: paragraphs, a few inline tags, and a line break as sanitize-html writes it. */
const SIMPLE_TAG_SOURCE = /<(\/?)(p|b|i|em|strong)>|<br \/>/.source;
/** One tag where the scan stands (sticky), and every tag of a text (global). */
const SIMPLE_TAG = new RegExp(SIMPLE_TAG_SOURCE, 'y');
const SIMPLE_TAGS = new RegExp(SIMPLE_TAG_SOURCE, 'g');
const SIMPLE_TEXT = /[^<>&]*/y;

/**
 * Whether HTML is simple: text without a character reference or anything to escape, in paragraphs (never nested) and
 * balanced <b>, <i>, <em> and <strong>, with <br /> anywhere, no deeper than MAX_HTML_DEPTH. Sanitizing gives such
 * HTML back as it is, and its text is its tags dropped (many wire items are no more than this): both skip
 * sanitize-html and htmlparser2, whose setup and parse were most of normalizing such an item. One linear scan.
 */
export function isSimpleHtml(html: string): boolean {
  const open: string[] = [];
  let index = 0;
  for (;;) {
    SIMPLE_TEXT.lastIndex = index;
    SIMPLE_TEXT.test(html);
    index = SIMPLE_TEXT.lastIndex;
    if (index === html.length) return open.length === 0;
    SIMPLE_TAG.lastIndex = index;
    const tag = SIMPLE_TAG.exec(html);
    if (!tag) return false; // "&", ">", or a tag of another kind
    index = SIMPLE_TAG.lastIndex;
    const [, closing, name] = tag;
    if (name === undefined) continue; // <br />
    if (closing) {
      if (open.pop() !== name) return false;
    } else if ((name === 'p' && open.length > 0) || open.push(name) > MAX_HTML_DEPTH) return false;
  }
}

/**
 * Allowlist sanitizing of feed HTML: no scripts, styles, handlers or non-http(s) URLs; relative links and images
 * made absolute against `baseUrl`, links without their tracking parameters; tracking pixels, tracker images and foreign
 * iframes dropped. Simple HTML (plain text, paragraphs:
 * many feeds' descriptions) is its own sanitized form.
 */
export function sanitizeContent(html: string, baseUrl?: string): string {
  return isSimpleHtml(html) ? html.trim() : sanitizeMarkup(html, baseUrl);
}

/** sanitizeContent for any HTML, through sanitize-html: what simple HTML must come out of it as (tests hold it to that). */
export function sanitizeMarkup(html: string, baseUrl?: string): string {
  const absolute = (href: string | undefined) => (href ? resolveHttpUrl(href, baseUrl) : undefined);
  const withUrl = (attribute: string) => (tagName: string, attribs: Record<string, string>) => {
    const url = absolute(attribs[attribute]);
    const next = { ...attribs };
    if (url) next[attribute] = url;
    else delete next[attribute];
    return { tagName, attribs: next };
  };
  return sanitizeHtml(shallowHtml(html), {
    allowedTags: ALLOWED_TAGS,
    allowedAttributes: {
      a: ['href', 'title', 'rel'],
      img: ['src', 'alt', 'title', 'width', 'height'],
      iframe: ['src', 'width', 'height', 'allowfullscreen'],
      source: ['src', 'type'],
      audio: ['src', 'controls'],
      video: ['src', 'controls', 'poster', 'width', 'height'],
      time: ['datetime'],
      td: ['colspan', 'rowspan'],
      th: ['colspan', 'rowspan'],
      abbr: ['title'],
    },
    allowedSchemes: ['http', 'https'],
    allowedSchemesAppliedToAttributes: ['href', 'src', 'poster'],
    allowProtocolRelative: false,
    allowedIframeHostnames: EMBED_HOSTS,
    transformTags: {
      a: (tagName, attribs) => {
        const result = withUrl('href')(tagName, attribs);
        const href = result.attribs.href;
        return href ? { ...result, attribs: { ...result.attribs, href: withoutTrackingParams(href), rel: 'noopener noreferrer' } } : result;
      },
      img: withUrl('src'),
      iframe: withUrl('src'),
      source: withUrl('src'),
      audio: withUrl('src'),
      video: withUrl('src'),
    },
    exclusiveFilter: (frame) =>
      (frame.tag === 'img' && (!frame.attribs.src || isTrackingPixel(frame.attribs))) || (frame.tag === 'iframe' && !frame.attribs.src),
  } as sanitizeHtml.IOptions).trim();
}

const BLOCK_TAGS = new Set([
  'p',
  'div',
  'br',
  'li',
  'ul',
  'ol',
  'h1',
  'h2',
  'h3',
  'h4',
  'h5',
  'h6',
  'blockquote',
  'pre',
  'tr',
  'table',
  'figure',
  'figcaption',
  'hr',
  'section',
  'article',
  'header',
  'footer',
  'dt',
  'dd',
]);
const SKIPPED_TAGS = new Set(['script', 'style', 'noscript', 'template', 'iframe', 'object']);

/** Whitespace as JavaScript's \s and trim() know it, but the line feed. */
function isBlank(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * Text with each line's runs of whitespace made one space and its ends trimmed, at most one blank line in a row, and
 * no blank lines at either end. One pass that copies what is already tidy (words and single spaces) a stretch at a
 * time: splitting into lines, collapsing each and joining them again built every line three times.
 */
export function tidyText(text: string): string {
  let out = '';
  let stretch = -1; // where the tidy stretch being copied starts
  let newlines = 0; // line feeds in the whitespace before the next word
  let index = 0;
  while (index < text.length) {
    const code = text.charCodeAt(index);
    if (code !== 0x0a && !isBlank(code)) {
      if (stretch < 0) {
        if (out.length > 0) out += newlines >= 2 ? '\n\n' : newlines === 1 ? '\n' : ' ';
        stretch = index;
      }
      index++;
      continue;
    }
    let end = index;
    newlines = 0;
    for (; end < text.length; end++) {
      const blank = text.charCodeAt(end);
      if (blank === 0x0a) newlines++;
      else if (!isBlank(blank)) break;
    }
    // One space between two words is tidy already: the stretch goes on.
    if (stretch >= 0 && code === 0x20 && end === index + 1 && end < text.length) {
      index = end;
      continue;
    }
    if (stretch >= 0) out += text.slice(stretch, index);
    stretch = -1;
    index = end;
  }
  return stretch >= 0 ? out + text.slice(stretch) : out;
}

/** Plain text of an HTML fragment, entities decoded once, whitespace collapsed, paragraphs kept as blank lines. */
export function htmlToText(html: string): string {
  // As parsedHtmlText reads simple HTML: a paragraph's tags and a line break (start and end at once) end lines.
  if (isSimpleHtml(html)) return tidyText(html.replace(SIMPLE_TAGS, (_tag, _closing, name) => (name === undefined ? '\n\n' : name === 'p' ? '\n' : '')));
  return parsedHtmlText(html);
}

/** htmlToText for any HTML, through htmlparser2: what simple HTML's text must be (tests hold it to that). */
export function parsedHtmlText(html: string): string {
  let text = '';
  let skipping = 0;
  const parser = new Parser(
    {
      onopentag(name) {
        if (SKIPPED_TAGS.has(name)) skipping++;
        else if (BLOCK_TAGS.has(name)) text += '\n';
      },
      onclosetag(name) {
        if (SKIPPED_TAGS.has(name)) skipping = Math.max(0, skipping - 1);
        else if (BLOCK_TAGS.has(name)) text += '\n';
      },
      ontext(chunk) {
        if (skipping === 0) text += chunk;
      },
    },
    { decodeEntities: true },
  );
  parser.write(shallowHtml(html));
  parser.end();
  return tidyText(text);
}

/** One-line plain text, for titles. */
export function htmlToLine(html: string): string {
  return htmlToText(html).replace(/\s+/g, ' ').trim();
}

/** The first `max` characters of text, cut at a word boundary. */
export function excerpt(text: string, max = 300): string {
  const line = text.replace(/\s+/g, ' ').trim();
  if (line.length <= max) return line;
  const cut = line.slice(0, max);
  const space = cut.lastIndexOf(' ');
  return `${(space > max * 0.6 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** A one-line plain-text title from a feed title that is either plain text or HTML. */
export function plainTitle(title: string, type: 'text' | 'html'): string {
  return type === 'text' ? title.replace(/\s+/g, ' ').trim() : htmlToLine(title);
}
