/**
 * npm run conformance: runs every case of Python feedparser's test corpus (../shared/corpus/feedparser, or
 * WIREFEED_CORPUS) through our decode -> parse -> normalize path.
 *
 * - No case may crash (an error other than a clean FeedParseError) or hang (take longer than HANG_MS).
 * - encoding/: our decoded text must equal the bytes decoded with the encoding the case expects (given its Header
 *   lines), and its text asserts must hold.
 * - wellformed/{rss,atom,atom10,rdf}: the plain title, link and date asserts are a yardstick; the pass rate is printed
 *   and must stay at or above PLAIN_FLOOR.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { TextDecoder } from 'node:util';
import { decodeFeedBody } from '../src/fetch/decode.js';
import { parseFeedDate } from '../src/normalize/date.js';
import { htmlToLine, htmlToText, plainTitle } from '../src/normalize/html.js';
import { documentBase, normalizeItem } from '../src/normalize/item.js';
import { canonicalizeUrl, resolveHttpUrl } from '../src/normalize/url.js';
import { FeedParseError, type ParsedFeed, parseFeed } from '../src/parse/index.js';

export const PLAIN_FLOOR = 0.95;
export const WIDE_FLOOR = 0.95;
/** One document, whose title uses an entity its own DTD declares: refused on purpose, as no DTD entity is ever expanded. */
const MAX_WELLFORMED_REJECTED = 1;
export const ENCODING_FLOOR = 0.95;
const HANG_MS = 5_000;

interface Case {
  file: string;
  group: string;
  /** feedparser's verdict: true when the document is broken, false when it is well-formed. */
  bozo: boolean | null;
  headers: Record<string, string>;
  asserts: Array<[Array<string | number>, string, unknown]>;
}

type Outcome = 'parsed' | 'rejected' | 'crashed';

const PLAIN_GROUPS = ['rss', 'atom', 'atom10', 'rdf'];
const DATE_FIELDS = new Set(['published_parsed', 'updated_parsed', 'created_parsed']);

/** Python's time.struct_time as [Y, M, D, h, m, s, ...] -> Date (UTC). */
const structTime = (value: unknown) => {
  const [year, month, day, hour, minute, second] = value as number[];
  return new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
};

/** Checks one plain assert against our result; undefined when the assert is not a plain title/link/date one. */
function checkPlain(assert: Case['asserts'][number], feed: ParsedFeed, url: string): boolean | undefined {
  const [path, op, expected] = assert;
  if (op !== '==') return undefined;
  const isEntry = path[0] === 'entries' && typeof path[1] === 'number' && path.length === 3;
  const isFeed = path[0] === 'feed' && path.length === 2;
  if (!isEntry && !isFeed) return undefined;
  const field = String(path.at(-1));
  const item = isEntry ? feed.items[path[1] as number] : undefined;
  if (isEntry && !item) return false;
  const normalized = item ? normalizeItem(item, feed, { feedUrl: url, fetchedAt: new Date('2100-01-01T00:00:00Z'), shortUrlHosts: [] }) : undefined;
  if (field === 'title') {
    // feedparser keeps inline markup in titles; we keep plain text. Either reading of the expected value may match.
    const ours = normalized ? normalized.title : plainTitle(feed.title ?? '', feed.titleType ?? 'html');
    const wanted = String(expected);
    return ours === htmlToLine(wanted) || ours === wanted.trim() || (ours === '(untitled)' && htmlToLine(wanted) === '');
  }
  if (field === 'link') {
    const ours = normalized ? normalized.url : canonicalizeUrl(resolveHttpUrl(feed.siteUrl, documentBase(feed, url)) ?? '');
    return ours === canonicalizeUrl(String(expected), url);
  }
  if (DATE_FIELDS.has(field)) {
    const want = structTime(expected).getTime();
    const candidates = item ? item.dates : [feed.updated];
    return candidates.some((candidate) => parseFeedDate(candidate)?.getTime() === want);
  }
  return undefined;
}

/** The wider yardstick: every assert on a field Wirefeed keeps, under Wirefeed's conventions (CONVENTIONS). */
const WIDE_GROUPS = new Set(['rss', 'atom', 'atom10', 'rdf', 'cdf', 'base', 'amp', 'lang', 'itunes', 'namespace', 'media-rss', 'sanitize']);

/** How Wirefeed keeps a field differently from feedparser, and so how the assert is compared; printed in the report. */
export const CONVENTIONS: Record<string, string> = {
  title: 'titles are plain text: feedparser keeps inline markup, so its value is compared as text; a title with no text is "(untitled)"',
  html: 'descriptions, summaries and content are sanitized HTML: compared as their text (the two sanitizers keep different attributes)',
  link: 'links are canonical (tracking parameters, default ports and fragments dropped), on both sides',
  author: 'authors are a name: feedparser\'s "email (name)" and "name (email)" forms are compared by the name',
  language: 'languages are primary subtags (en for en-US)',
  tag: 'categories are a set of terms',
  date: 'dates are instants; any date the entry gives may match',
  id: 'ids are the guid (or Atom id) as written, trimmed',
};

type Kept = keyof typeof CONVENTIONS;

/** Which kept field an assert path is about, or undefined for one Wirefeed does not keep. */
function keptField(path: Array<string | number>): Kept | undefined {
  const [scope, index, field, sub, subfield] = path;
  if (scope === 'feed' && typeof index === 'string') {
    if (index === 'title' || (index === 'title_detail' && field === 'value')) return 'title';
    if (index === 'link') return 'link';
    if (index === 'language') return 'language';
    if (DATE_FIELDS.has(index)) return 'date';
    return undefined;
  }
  if (scope !== 'entries' || typeof index !== 'number' || typeof field !== 'string') return undefined;
  if (field === 'title' && sub === undefined) return 'title';
  if (field === 'title_detail' && sub === 'value') return 'title';
  if ((field === 'description' || field === 'summary') && sub === undefined) return 'html';
  if (field === 'summary_detail' && sub === 'value') return 'html';
  if (field === 'content' && typeof sub === 'number' && subfield === 'value') return 'html';
  if (field === 'link' && sub === undefined) return 'link';
  if (field === 'id' && sub === undefined) return 'id';
  if ((field === 'author' && sub === undefined) || (field === 'author_detail' && sub === 'name')) return 'author';
  if (field === 'tags' && typeof sub === 'number' && subfield === 'term') return 'tag';
  if (DATE_FIELDS.has(field) && sub === undefined) return 'date';
  return undefined;
}

const asText = (html: string) => htmlToText(html).replace(/\s+/g, ' ').trim();

/** Checks an assert on a kept field against our result; undefined when the field is not one we keep. */
function checkWide(assert: Case['asserts'][number], feed: ParsedFeed, url: string): { field: Kept; passed: boolean } | undefined {
  const [path, op, expected] = assert;
  const field = keptField(path);
  if (op !== '==' || !field) return undefined;
  if (path[0] === 'feed') {
    const plain = checkPlain([[path[0], path[1] === 'title_detail' ? 'title' : path[1]!], op, expected], feed, url);
    if (plain !== undefined) return { field, passed: plain };
    if (field === 'language')
      return { field, passed: (feed.language ?? '').toLowerCase().split(/[-_]/)[0] === String(expected).toLowerCase().split(/[-_]/)[0] };
    return undefined;
  }
  const item = feed.items[path[1] as number];
  if (!item) return { field, passed: false };
  const ours = normalizeItem(item, feed, { feedUrl: url, fetchedAt: new Date('2100-01-01T00:00:00Z'), shortUrlHosts: [] });
  const wanted = String(expected);
  switch (field) {
    case 'title':
    case 'link':
    case 'date':
      return { field, passed: checkPlain([['entries', path[1]!, path[2] === 'title_detail' ? 'title' : path[2]!], op, expected], feed, url) ?? false };
    case 'html': {
      const candidates = [ours.summary, ours.contentHtml, item.summaryHtml, item.contentHtml, item.contentText].filter((value): value is string => !!value);
      return { field, passed: candidates.some((value) => asText(value) === asText(wanted)) || (wanted.trim() === '' && candidates.length === 0) };
    }
    case 'id':
      return { field, passed: (item.guid ?? '').trim() === wanted.trim() };
    case 'author': {
      // "email (name)", or feedparser's own "name (email)" for an Atom author with both.
      const name = /\(([^)]+)\)\s*$/.exec(wanted)?.[1] ?? wanted;
      const nameFirst = wanted.replace(/\s*\(\S+@\S+\)\s*$/, '');
      return { field, passed: [wanted, name, nameFirst].some((candidate) => htmlToLine(candidate) === (ours.author ?? '')) };
    }
    case 'tag':
      return { field, passed: ours.categories.includes(htmlToLine(wanted)) };
    default:
      return undefined;
  }
}

/** Checks an encoding-group assert: the encoding by the text it yields, text fields by their value. */
function checkEncoding(assert: Case['asserts'][number], bytes: Uint8Array, decoded: string, feed: ParsedFeed | undefined): boolean | undefined {
  const [path, op, expected] = assert;
  if (op !== '==') return undefined;
  if (path.length === 1 && path[0] === 'encoding') {
    const reference = referenceDecode(bytes, String(expected));
    return reference === undefined ? undefined : reference === decoded;
  }
  if (!feed) return false;
  const field = String(path.at(-1));
  const item = path[0] === 'entries' ? feed.items[path[1] as number] : undefined;
  const value = field === 'description' ? item?.summaryHtml : field === 'title' ? (item?.title ?? feed.title) : undefined;
  if (value === undefined) return false;
  return htmlToText(value) === htmlToText(String(expected)) || value === expected;
}

function referenceDecode(bytes: Uint8Array, encoding: string): string | undefined {
  const bomless = (skip: number) => bytes.subarray(skip);
  try {
    if (encoding.startsWith('utf-32')) {
      const littleEndian = encoding === 'utf-32le';
      const start = bytes[0] === 0xff && bytes[1] === 0xfe && !bytes[2] && !bytes[3] ? 4 : bytes[0] === 0 && bytes[1] === 0 && bytes[2] === 0xfe ? 4 : 0;
      const view = new DataView(bytes.buffer, bytes.byteOffset + start, bytes.byteLength - start - ((bytes.byteLength - start) % 4));
      let text = '';
      for (let offset = 0; offset < view.byteLength; offset += 4) text += String.fromCodePoint(view.getUint32(offset, littleEndian));
      return text;
    }
    const decoder = new TextDecoder(encoding === 'us-ascii' ? 'utf-8' : encoding);
    const skip = encoding === 'utf-8' && bytes[0] === 0xef ? 3 : encoding.startsWith('utf-16') && (bytes[0] === 0xfe || bytes[0] === 0xff) ? 2 : 0;
    return decoder.decode(bomless(skip));
  } catch {
    return undefined;
  }
}

export interface ConformanceReport {
  cases: number;
  outcomes: Record<Outcome, number>;
  crashes: string[];
  hangs: string[];
  /** Documents feedparser reads as well-formed that we rejected, with our reason. */
  wellformedRejected: string[];
  plain: { passed: number; total: number; failures: string[] };
  encoding: { passed: number; total: number; failures: string[] };
  /** Every assert on a kept field (wellformed groups and entities), per field. */
  wide: { passed: number; total: number; failures: string[]; byField: Record<string, { passed: number; total: number }> };
}

export async function runConformance(corpusDir: string, onProgress?: (done: number, total: number) => void): Promise<ConformanceReport> {
  const manifest = JSON.parse(readFileSync(join(corpusDir, 'manifest.json'), 'utf8')) as Case[];
  const report: ConformanceReport = {
    cases: manifest.length,
    outcomes: { parsed: 0, rejected: 0, crashed: 0 },
    crashes: [],
    hangs: [],
    wellformedRejected: [],
    plain: { passed: 0, total: 0, failures: [] },
    encoding: { passed: 0, total: 0, failures: [] },
    wide: { passed: 0, total: 0, failures: [], byField: {} },
  };
  for (const [index, testCase] of manifest.entries()) {
    if (index % 250 === 0) onProgress?.(index, manifest.length);
    const bytes = readFileSync(join(corpusDir, testCase.file));
    const contentType = Object.entries(testCase.headers).find(([name]) => name.toLowerCase() === 'content-type')?.[1];
    const url = `http://127.0.0.1:8097/${testCase.file}`;
    const started = performance.now();
    let decoded = '';
    let feed: ParsedFeed | undefined;
    try {
      decoded = decodeFeedBody(bytes, contentType).text;
      feed = await parseFeed(decoded);
      for (const item of feed.items) normalizeItem(item, feed, { feedUrl: url, fetchedAt: new Date(), shortUrlHosts: [] });
      report.outcomes.parsed++;
    } catch (error) {
      if (error instanceof FeedParseError) {
        report.outcomes.rejected++;
        if (testCase.bozo === false) report.wellformedRejected.push(`${testCase.file}: ${(error as Error).message}`);
      } else {
        report.outcomes.crashed++;
        report.crashes.push(`${testCase.file}: ${(error as Error).stack?.split('\n').slice(0, 2).join(' ')}`);
      }
    }
    if (performance.now() - started > HANG_MS) report.hangs.push(testCase.file);

    const subgroup = testCase.file.split('/')[1]!;
    const wide = testCase.group === 'entities' || (testCase.group === 'wellformed' && WIDE_GROUPS.has(subgroup));
    for (const assert of testCase.asserts) {
      if (wide) {
        const field = keptField(assert[0]);
        const verdict = !field ? undefined : feed ? checkWide(assert, feed, url) : { field, passed: false };
        if (verdict) {
          const tally = report.wide.byField[verdict.field] ?? { passed: 0, total: 0 };
          report.wide.byField[verdict.field] = tally;
          tally.total++;
          report.wide.total++;
          if (verdict.passed) {
            tally.passed++;
            report.wide.passed++;
          } else report.wide.failures.push(`${testCase.file}: ${JSON.stringify(assert)}`);
        }
      }
      if (testCase.group === 'encoding') {
        const verdict = checkEncoding(assert, bytes, decoded, feed);
        if (verdict === undefined) continue;
        report.encoding.total++;
        if (verdict) report.encoding.passed++;
        else report.encoding.failures.push(`${testCase.file}: ${JSON.stringify(assert)}`);
      } else if (testCase.group === 'wellformed' && PLAIN_GROUPS.includes(subgroup)) {
        const verdict = feed ? checkPlain(assert, feed, url) : isPlainPath(assert) ? false : undefined;
        if (verdict === undefined) continue;
        report.plain.total++;
        if (verdict) report.plain.passed++;
        else report.plain.failures.push(`${testCase.file}: ${JSON.stringify(assert)}`);
      }
    }
  }
  onProgress?.(manifest.length, manifest.length);
  return report;
}

function isPlainPath([path, op]: Case['asserts'][number]): boolean {
  const field = String(path.at(-1));
  const shapeOk = (path[0] === 'entries' && path.length === 3) || (path[0] === 'feed' && path.length === 2);
  return op === '==' && shapeOk && (field === 'title' || field === 'link' || DATE_FIELDS.has(field));
}

const percent = (passed: number, total: number) => (total ? ((100 * passed) / total).toFixed(1) : '100.0');

async function main() {
  const corpusDir = resolve(process.env.WIREFEED_CORPUS ?? join(import.meta.dirname, '../../shared/corpus/feedparser'));
  const verbose = process.argv.includes('--verbose');
  const report = await runConformance(corpusDir, (done, total) => process.stderr.write(`conformance: ${done}/${total} cases\n`));
  console.log(
    `feedparser corpus: ${report.cases} cases: ${report.outcomes.parsed} parsed, ${report.outcomes.rejected} rejected cleanly, ${report.outcomes.crashed} crashed, ${report.hangs.length} hung`,
  );
  console.log(`well-formed documents (feedparser: not bozo) we rejected: ${report.wellformedRejected.length}`);
  console.log(
    `encoding group: ${report.encoding.passed}/${report.encoding.total} asserts (${percent(report.encoding.passed, report.encoding.total)} %, floor ${ENCODING_FLOOR * 100} %)`,
  );
  console.log(
    `plain title/link/date asserts (rss, atom, atom10, rdf): ${report.plain.passed}/${report.plain.total} (${percent(report.plain.passed, report.plain.total)} %, floor ${PLAIN_FLOOR * 100} %)`,
  );
  console.log(
    `every assert on a field Wirefeed keeps (wellformed ${[...WIDE_GROUPS].join(', ')}; entities): ${report.wide.passed}/${report.wide.total} (${percent(report.wide.passed, report.wide.total)} %, floor ${WIDE_FLOOR * 100} %)`,
  );
  for (const [field, tally] of Object.entries(report.wide.byField)) {
    console.log(`  ${field}: ${tally.passed}/${tally.total} (${percent(tally.passed, tally.total)} %): ${CONVENTIONS[field]}`);
  }
  if (verbose) {
    for (const failure of [...report.encoding.failures, ...report.plain.failures, ...report.wide.failures]) console.log(`  fail: ${failure}`);
    for (const rejected of report.wellformedRejected) console.log(`  rejected: ${rejected}`);
  }
  const problems: string[] = [];
  if (report.crashes.length) problems.push(`${report.crashes.length} case(s) crashed:\n  ${report.crashes.join('\n  ')}`);
  if (report.hangs.length) problems.push(`${report.hangs.length} case(s) hung: ${report.hangs.join(', ')}`);
  if (report.encoding.passed < ENCODING_FLOOR * report.encoding.total) problems.push('encoding pass rate below its floor');
  if (report.plain.passed < PLAIN_FLOOR * report.plain.total) problems.push('plain assert pass rate below its floor');
  if (report.wide.passed < WIDE_FLOOR * report.wide.total) problems.push('kept-field assert pass rate below its floor');
  if (report.wellformedRejected.length > MAX_WELLFORMED_REJECTED)
    problems.push(`${report.wellformedRejected.length} well-formed documents rejected (at most ${MAX_WELLFORMED_REJECTED})`);
  if (problems.length) {
    console.error(`conformance FAILED:\n${problems.join('\n')}`);
    process.exitCode = 1;
  } else {
    console.log('conformance passed');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
