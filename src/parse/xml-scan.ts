/**
 * One linear pass over an XML document before it is parsed: what its root element is (and its xml:lang and
 * xml:base), whether elements nest deeper than a limit, and whether an RSS <channel> is present. Hand-written with
 * indexOf, so every character is looked at a bounded number of times whatever the input: the regular expressions
 * it replaces backtracked quadratically on inputs such as 48 KB of "<a ".
 */

/** Deeper than any real feed; xml2js recurses per level, so a hostile document would blow the stack and the heap. */
export const MAX_XML_DEPTH = 256;

export interface XmlOutline {
  /** The first element's qualified name, as written ("rss", "rdf:RDF", "feed"), and its attributes. */
  root?: { name: string; attributes: Record<string, string> };
  /** Elements nest deeper than the limit given. */
  tooDeep: boolean;
  /** An element whose local name is "channel" appears. */
  hasChannel: boolean;
}

const isNameStart = (code: number) => (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a) || code === 0x5f || code === 0x3a || code >= 0xc0;
const isSpace = (char: string | undefined) => char === ' ' || char === '\t' || char === '\n' || char === '\r';

/** name="value" pairs of one start tag's text (bounded by the tag), entities in values left as written. */
function tagAttributes(tag: string): Record<string, string> {
  const attributes: Record<string, string> = {};
  let i = 0;
  while (i < tag.length) {
    const equals = tag.indexOf('=', i);
    if (equals < 0) break;
    const name = tag.slice(i, equals).trim();
    let open = equals + 1;
    while (isSpace(tag[open])) open++;
    const quote = tag[open];
    if (quote !== '"' && quote !== "'") break;
    const close = tag.indexOf(quote, open + 1);
    if (close < 0) break;
    if (name) attributes[name] = tag.slice(open + 1, close);
    i = close + 1;
  }
  return attributes;
}

/** The end of a start tag beginning at `start` ("<name"), honouring quoted values; -1 when it never ends properly. */
function startTagEnd(text: string, start: number): number {
  for (let i = start; i < text.length; i++) {
    const char = text[i];
    if (char === '>') return i;
    if (char === '<') return -1; // not a tag: markup cannot contain "<"
    if (char === '"' || char === "'") {
      const close = text.indexOf(char, i + 1);
      if (close < 0) return -1;
      i = close;
    }
  }
  return -1;
}

export function scanXml(text: string, maxDepth: number): XmlOutline {
  const outline: XmlOutline = { tooDeep: false, hasChannel: false };
  let depth = 0;
  let i = 0;
  for (;;) {
    const lt = text.indexOf('<', i);
    if (lt < 0) break;
    const next = text[lt + 1];
    let end: number;
    if (text.startsWith('<!--', lt)) {
      end = text.indexOf('-->', lt + 4);
      if (end >= 0) end += 2;
    } else if (text.startsWith('<![CDATA[', lt)) {
      end = text.indexOf(']]>', lt + 9);
      if (end >= 0) end += 2;
    } else if (next === '?') {
      end = text.indexOf('?>', lt + 2);
      if (end >= 0) end += 1;
    } else if (next === '!') {
      // A declaration; a DOCTYPE's internal subset may hold ">" inside its brackets.
      end = text.indexOf('>', lt);
      const bracket = end < 0 ? -1 : text.slice(lt, end).indexOf('[');
      if (bracket >= 0) {
        const subsetEnd = text.indexOf(']', lt + bracket);
        end = subsetEnd < 0 ? -1 : text.indexOf('>', subsetEnd);
      }
    } else if (next === '/') {
      end = text.indexOf('>', lt);
      depth--;
    } else if (next !== undefined && isNameStart(next.charCodeAt(0))) {
      end = startTagEnd(text, lt + 1);
      if (end < 0) {
        i = lt + 1; // a stray "<": text to a lenient reader, an error to a strict one; not an element either way
        continue;
      }
      let nameEnd = lt + 1;
      while (nameEnd < end && !isSpace(text[nameEnd]) && text[nameEnd] !== '/' && text[nameEnd] !== '>') nameEnd++;
      const name = text.slice(lt + 1, nameEnd);
      if (!outline.root) outline.root = { name, attributes: tagAttributes(text.slice(nameEnd, end)) };
      if (name === 'channel' || name.endsWith(':channel')) outline.hasChannel = true;
      if (text[end - 1] !== '/' && ++depth > maxDepth) {
        outline.tooDeep = true;
        return outline;
      }
    } else {
      i = lt + 1;
      continue;
    }
    if (end < 0) break; // an unterminated comment, CDATA or tag: nothing after it is markup
    i = end + 1;
  }
  return outline;
}
