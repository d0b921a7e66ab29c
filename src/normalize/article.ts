/**
 * The article of a web page: what Mozilla's Readability (Firefox's reader view) finds as the page's main text, on a
 * linkedom document, then through the same allowlist sanitizer as feed HTML. For sources whose items carry only a
 * headline and a line (many wire feeds), so that topics match, and readers read, the whole story.
 */
import { isProbablyReaderable, Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import type { ArticleRules } from '../model/source.js';
import { exceedsHtmlBounds, htmlToText, MAX_HTML_DEPTH, sanitizeContent } from './html.js';

/**
 * Elements a page may have, scripts and styles left out, to be read: a long news page has one or two thousand, and
 * Readability walks a page several times over (0.4-0.5 s for 4,000 elements of link-heavy text, measured).
 */
const MAX_ELEMENTS = 4_000;
/** Fewer characters of text than this is not an article (a paywall notice, a cookie wall, an index page). */
const MIN_ARTICLE_CHARS = 250;

export interface Article {
  /** Sanitized HTML with absolute URLs. */
  html: string;
  /** Its plain text, as the normalizer reads HTML. */
  text: string;
}

/** Elements whose content is never an article's text, and may hold "<" that is not a tag (scripts). */
const NOT_TEXT = /<(script|style|noscript|template)\b/gi;

/** The page without its scripts, styles and templates: one pass, each element's end found by indexOf. */
function withoutCode(page: string): string {
  const lower = page.toLowerCase();
  let kept = '';
  let at = 0;
  NOT_TEXT.lastIndex = 0;
  for (let match = NOT_TEXT.exec(page); match; match = NOT_TEXT.exec(page)) {
    kept += page.slice(at, match.index);
    const end = lower.indexOf(`</${match[1]!.toLowerCase()}`, NOT_TEXT.lastIndex);
    if (end < 0) return kept; // unclosed: the rest of the page is inside it
    at = lower.indexOf('>', end) + 1 || page.length;
    NOT_TEXT.lastIndex = at;
  }
  return kept + page.slice(at);
}

/**
 * The article of the page at `url` (`page` decoded to text), or undefined when the page holds none. A page nested
 * deeper than any real one, or with more elements than MAX_ELEMENTS, is not read at all: the HTML parser slows down
 * quadratically with depth (50,000 nested elements took 39 s), and a hostile page must not hold the process for long.
 */
export function extractArticle(page: string, url: string, rules: ArticleRules = {}): Article | undefined {
  const document = pageDocument(page, MAX_ELEMENTS);
  if (!document) return undefined;
  if (rules.remove) for (const element of document.querySelectorAll(rules.remove)) element.remove();
  const content = rules.select ? selected(document, rules.select) : readable(document);
  if (!content) return undefined;
  const html = sanitizeContent(content, url);
  const text = htmlToText(html);
  // Where the operator said where the article is, a short one is one (the caller still wants it longer than the feed's).
  return text.length >= (rules.select ? 1 : MIN_ARTICLE_CHARS) ? { html, text } : undefined;
}

export type PageDocument = ConstructorParameters<typeof Readability>[0];
export type PageElement = NonNullable<ReturnType<PageDocument['querySelector']>>;

/**
 * The page as a DOM without its scripts and styles, or undefined when it nests deeper than any real page or holds
 * more than `maxElements` elements: not parsed at all (the parser slows down quadratically with depth).
 */
export function pageDocument(page: string, maxElements: number): PageDocument | undefined {
  const markup = withoutCode(page);
  if (exceedsHtmlBounds(markup, { depth: MAX_HTML_DEPTH, elements: maxElements })) return undefined;
  return parseHTML(markup).document as unknown as PageDocument;
}

/** Readability's article of the page, if it finds one. */
function readable(document: PageDocument): string | undefined {
  // Its quick test first (a few paragraphs of 100 characters will do: wire copy is short): a page without paragraphs
  // of text (an index, a login wall) is where Readability retries most.
  if (!isProbablyReaderable(document, { minContentLength: 100, minScore: 10 })) return undefined;
  try {
    return new Readability(document, { maxElemsToParse: MAX_ELEMENTS, charThreshold: MIN_ARTICLE_CHARS }).parse()?.content ?? undefined;
  } catch {
    return undefined; // A document it cannot read.
  }
}

/** The elements matching `selector`, in page order, each once (one inside another is in it already). */
function selected(document: PageDocument, selector: string): string | undefined {
  const found = [...document.querySelectorAll(selector)];
  const chosen = new Set<unknown>(found);
  const inside = (element: (typeof found)[number]) => {
    for (let parent = element.parentElement; parent; parent = parent.parentElement) if (chosen.has(parent)) return true;
    return false;
  };
  const outermost = found.filter((element) => !inside(element));
  return outermost.length > 0 ? outermost.map((element) => element.outerHTML).join('\n') : undefined;
}

/** Why `selector` is not a CSS selector the page reader can match, or undefined when it is one: checked at config load. */
export function cssSelectorProblem(selector: string): string | undefined {
  try {
    parseHTML('<p></p>').document.querySelectorAll(selector);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}
