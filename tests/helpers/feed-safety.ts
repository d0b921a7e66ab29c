/**
 * Checks that a published feed is what a reader will safely read: well-formed to a strict XML parser, made only of
 * the elements and attributes we write, and with no script in anything a reader may render as HTML.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Parser as HtmlParser } from 'htmlparser2';
import { SaxesParser } from 'saxes';

export interface XmlNode {
  name: string;
  attributes: Record<string, string>;
  children: Array<XmlNode | string>;
}

/** Parses with saxes (namespace-aware, non-validating, strict): any well-formedness error throws. */
export function strictXml(xml: string): XmlNode {
  const parser = new SaxesParser({ xmlns: true });
  const root: XmlNode = { name: '#document', attributes: {}, children: [] };
  const stack: XmlNode[] = [root];
  parser.on('error', (error) => {
    throw error;
  });
  parser.on('doctype', () => {
    throw new Error('a doctype in our output');
  });
  parser.on('opentag', (tag) => {
    const attributes = Object.fromEntries(Object.values(tag.attributes).map((attribute) => [attribute.name, attribute.value]));
    const node: XmlNode = { name: tag.name, attributes, children: [] };
    stack.at(-1)!.children.push(node);
    stack.push(node);
  });
  parser.on('closetag', () => void stack.pop());
  parser.on('text', (text) => void stack.at(-1)!.children.push(text));
  parser.on('cdata', (text) => void stack.at(-1)!.children.push(text));
  parser.write(xml).close();
  return root.children.find((child): child is XmlNode => typeof child !== 'string')!;
}

export const textOf = (node: XmlNode): string => node.children.map((child) => (typeof child === 'string' ? child : textOf(child))).join('');
export const childrenNamed = (node: XmlNode, name: string) =>
  node.children.filter((child): child is XmlNode => typeof child !== 'string' && child.name === name);

/** Every element we write, with the attributes it may carry. */
const RSS_SCHEMA: Record<string, string[]> = {
  rss: ['version', 'xmlns:atom', 'xmlns:content', 'xmlns:dc'],
  channel: [],
  title: [],
  link: [],
  description: [],
  lastBuildDate: [],
  docs: [],
  generator: [],
  copyright: [],
  'atom:link': ['href', 'rel', 'type'],
  item: [],
  guid: ['isPermaLink'],
  pubDate: [],
  'content:encoded': [],
  'dc:creator': [],
  category: [],
  enclosure: ['url', 'length', 'type'],
};
const ATOM_SCHEMA: Record<string, string[]> = {
  feed: ['xmlns'],
  id: [],
  title: ['type'],
  subtitle: ['type'],
  updated: [],
  generator: [],
  rights: ['type'],
  link: ['rel', 'type', 'href', 'length'],
  entry: [],
  published: [],
  author: [],
  name: [],
  category: ['term', 'label'],
  summary: ['type'],
  content: ['type'],
};

/** Elements whose text a reader may render as HTML. */
const HTML_FIELDS = { rss: new Set(['title', 'description', 'content:encoded', 'dc:creator', 'category']), atom: new Set<string>() };

/** Script, event handlers, javascript: URLs, or elements that run or embed code, in an HTML fragment. */
export function scriptIn(html: string): string | undefined {
  let found: string | undefined;
  const parser = new HtmlParser(
    {
      onopentag(name, attributes) {
        if (['script', 'object', 'embed', 'base', 'form', 'meta', 'link', 'style'].includes(name)) found ??= `<${name}>`;
        for (const [key, value] of Object.entries(attributes)) {
          if (/^on/i.test(key)) found ??= `${name}[${key}]`;
          if (/^\s*(javascript|vbscript|data):/i.test(value)) found ??= `${name}[${key}=${value}]`;
        }
      },
    },
    { decodeEntities: true },
  );
  parser.write(html);
  parser.end();
  return found;
}

/** Throws, naming the place, when a feed is not well-formed, has an element or attribute we never write, or script. */
export function assertSafeFeed(format: 'rss' | 'atom' | 'json', body: string): void {
  if (format === 'json') {
    const document = JSON.parse(body) as { items: Array<{ content_html?: string }> };
    for (const item of document.items) {
      const script = item.content_html && scriptIn(item.content_html);
      if (script) throw new Error(`JSON Feed content_html carries ${script}`);
    }
    return;
  }
  const schema = format === 'rss' ? RSS_SCHEMA : ATOM_SCHEMA;
  const visit = (node: XmlNode, path: string) => {
    const allowed = schema[node.name];
    if (!allowed) throw new Error(`unexpected element <${node.name}> at ${path}`);
    for (const attribute of Object.keys(node.attributes)) {
      if (!allowed.includes(attribute)) throw new Error(`unexpected attribute ${attribute} on <${node.name}> at ${path}`);
    }
    const isHtml = HTML_FIELDS[format].has(node.name) || (format === 'atom' && node.attributes.type === 'html');
    const script = isHtml ? scriptIn(textOf(node)) : undefined;
    if (script) throw new Error(`<${node.name}> at ${path} carries ${script}`);
    for (const child of node.children) if (typeof child !== 'string') visit(child, `${path}/${child.name}`);
  };
  const root = strictXml(body);
  visit(root, root.name);
}

const FEEDPARSER_SCRIPT = `
import sys, json, feedparser
d = feedparser.parse(sys.stdin.buffer.read())
def detail(value):
    return {'value': value.get('value', ''), 'type': value.get('type', 'text/plain')}
def values(e):
    out = [detail(e[key]) for key in ('title_detail', 'summary_detail') if key in e]
    out += [detail(c) for c in e.get('content', [])]
    out += [{'value': t.get('term', '') or '', 'type': 'text/plain'} for t in e.get('tags', [])]
    return out
print(json.dumps({'bozo': bool(d.bozo), 'error': str(d.get('bozo_exception', '')),
                  'titles': [detail(e['title_detail']) for e in d.entries], 'values': [v for e in d.entries for v in values(e)]}))
`;

/** Debian's /usr/bin/python3 with python3-feedparser, when installed (.ci/run installs it). */
export const feedparserAvailable = (): boolean =>
  existsSync('/usr/bin/python3') && spawnSync('/usr/bin/python3', ['-c', 'import feedparser'], { stdio: 'ignore' }).status === 0;

export interface FeedparserValue {
  value: string;
  /** text/plain, text/html or application/xhtml+xml: how feedparser says a reader should take the value. */
  type: string;
}

/** What Python's feedparser reads from a document: each entry's title, and every title, summary, content and tag. */
export function readWithFeedparser(body: string): { bozo: boolean; error: string; titles: FeedparserValue[]; values: FeedparserValue[] } {
  const run = spawnSync('/usr/bin/python3', ['-c', FEEDPARSER_SCRIPT], { input: body, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`feedparser failed: ${run.stderr}`);
  return JSON.parse(run.stdout);
}
