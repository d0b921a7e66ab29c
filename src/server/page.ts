import { createHash } from 'node:crypto';
import { escapeHtml } from '../model/escape.js';
import type { FeedEntry, Headline } from '../model/story.js';
import type { Topic } from '../model/topic.js';
import { type FeedFormat, topicPageUrl } from '../model/urls.js';
import { digestUrl } from '../publish/digest.js';
import { alsoReportedHtml, type Channel, topicChannel } from '../publish/render.js';
import { searchFormHtml } from './search.js';

const FORMATS: Array<{ format: FeedFormat; label: string; type: string }> = [
  { format: 'rss', label: 'RSS', type: 'application/rss+xml' },
  { format: 'atom', label: 'Atom', type: 'application/atom+xml' },
  { format: 'json', label: 'JSON Feed', type: 'application/feed+json' },
];

/**
 * Explicit colours for both schemes, each pair at least 4.5:1 (WCAG AA; the browser test measures them): text on the
 * page, muted text and links in light (#1b1b1f, #595966, #0b5cad on #fff) and dark (#e8e8ec, #a9abb8, #8cbcff on
 * #15161a).
 */
const STYLE = `
  :root { color-scheme: light dark; --text: #1b1b1f; --bg: #fff; --muted: #595966; --accent: #0b5cad; --rule: #d5d5dc; }
  @media (prefers-color-scheme: dark) {
    :root { --text: #e8e8ec; --bg: #15161a; --muted: #a9abb8; --accent: #8cbcff; --rule: #3a3b44; }
  }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 4rem;
    color: var(--text); background: var(--bg); overflow-wrap: anywhere; }
  a { color: var(--accent); }
  time { white-space: nowrap; }
  .status { border-left: 3px solid var(--accent); padding-left: .75rem; }
  .scroll { overflow-x: auto; }
  table.sources { border-collapse: collapse; font-size: .9rem; }
  table.sources th, table.sources td { text-align: left; padding: .3rem .5rem; border-bottom: 1px solid var(--rule); vertical-align: top; }
  table.sources td.number { text-align: right; }
  table.sources th, table.sources td:not(.error) { white-space: nowrap; }
  table.sources td.error { color: var(--muted); min-width: 12rem; }
  dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; }
  dl.facts dt { font-weight: 600; }
  dl.facts dd { margin: 0; overflow-wrap: anywhere; }
  .state-failing, .state-gone, .state-quiet { font-weight: 600; }
  nav.pages { margin-top: 1.5rem; }
  header p, .meta, footer { color: var(--muted); }
  h1 { margin-bottom: .25rem; } h2 { margin: 0 0 .25rem; font-size: 1.25rem; }
  section.topic { border-top: 1px solid var(--rule); padding: 1.25rem 0; }
  ul.subscribe { list-style: none; padding: 0; display: flex; gap: .5rem; flex-wrap: wrap; }
  ul.subscribe a { display: inline-block; padding: .2rem .7rem; border: 1px solid currentColor; border-radius: 1rem;
    color: var(--accent); text-decoration: none; }
  ul.subscribe a:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  ol.headlines { padding-left: 1.2rem; } ol.headlines li { margin: .35rem 0; }
  article.story { border-top: 1px solid var(--rule); padding: 1rem 0; }
  article.story img { max-width: 100%; height: auto; }
  form.search { display: flex; gap: .5rem; flex-wrap: wrap; align-items: center; margin: .75rem 0; }
  form.search input { flex: 1 1 16rem; font: inherit; padding: .3rem .5rem; color: var(--text); background: var(--bg);
    border: 1px solid var(--muted); border-radius: .25rem; }
  form.search button { font: inherit; padding: .3rem .9rem; }
  p.error { border-left: 3px solid #c0392b; padding-left: .75rem; }
`;

/**
 * Shows every <time> in the reader's own zone with a relative time ("3 h ago"). Without scripts the server's UTC text
 * stays, which is why the script only rewrites text and never builds the page.
 */
export const LOCAL_TIME_SCRIPT = `(() => {
  const now = Date.now();
  const ago = (ms) => {
    const minutes = Math.round(Math.abs(ms) / 60000);
    const text = minutes < 60 ? minutes + ' min' : minutes < 2880 ? Math.round(minutes / 60) + ' h' : Math.round(minutes / 1440) + ' d';
    return ms >= 0 ? text + ' ago' : 'in ' + text;
  };
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
  for (const element of document.querySelectorAll('time[datetime]')) {
    const date = new Date(element.getAttribute('datetime'));
    if (Number.isNaN(date.getTime())) continue;
    element.title = element.textContent;
    element.textContent = format.format(date) + ' (' + ago(now - date.getTime()) + ')';
  }
})();`;

/** The CSP source that lets exactly that script run, and nothing else. */
export const LOCAL_TIME_SCRIPT_HASH = `'sha256-${createHash('sha256').update(LOCAL_TIME_SCRIPT).digest('base64')}'`;

const formatDate = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A time as UTC text in <time datetime>: readable without scripts, localized by LOCAL_TIME_SCRIPT with them. */
export function timeHtml(date: Date): string {
  return `<time datetime="${date.toISOString()}">${formatDate(date)}</time>`;
}

export function layout(title: string, head: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
${head}
<style>${STYLE}</style>
</head>
<body>
${body}
<footer><p>Served by Wirefeed.</p></footer>
<script>${LOCAL_TIME_SCRIPT}</script>
</body>
</html>
`;
}

function alternateLinks(channel: Channel): string {
  return FORMATS.map(
    ({ format, type }) => `<link rel="alternate" type="${type}" title="${escapeHtml(channel.title)}" href="${escapeHtml(channel.feedUrl(format))}">`,
  ).join('\n');
}

function subscribeLinks(channel: Channel): string {
  const links = FORMATS.map(
    ({ format, label, type }) =>
      `<li><a href="${escapeHtml(channel.feedUrl(format))}" type="${type}" aria-label="${escapeHtml(`${channel.title} as ${label}`)}">${label}</a></li>`,
  ).join('');
  return `<ul class="subscribe" aria-label="Subscribe">${links}</ul>`;
}

/** "JIJI Press" once when the outlet is its own author, else "Arab News Japan · Kyodo". */
function byline(outlet: string, author: string | null | undefined): string {
  const same = !author || author.trim().toLowerCase() === outlet.trim().toLowerCase();
  return same ? escapeHtml(outlet) : `${escapeHtml(outlet)} · ${escapeHtml(author)}`;
}

/** What the index says about the sources, linking to /sources when that page is served. */
export interface SourcesNote {
  summary: string;
  /** The sources page, when publish.showSources serves it. */
  href?: string;
}

/** The index: every topic with its newest headlines, and the search form when search feeds are served. */
export function renderIndexPage(baseUrl: string, topics: Array<{ topic: Topic; latest: Headline[] }>, sources?: SourcesNote, search = false): string {
  const sections = topics
    .map(({ topic, latest }) => {
      const headlines = latest.length
        ? `<ol class="headlines">${latest
            .map(
              (entry) =>
                `<li><a href="${escapeHtml(entry.url ?? topicPageUrl(baseUrl, topic.slug))}">${escapeHtml(entry.title)}</a> <span class="meta">${escapeHtml(entry.sourceTitle ?? entry.sourceId)}, ${timeHtml(entry.publishedAt)}</span></li>`,
            )
            .join('')}</ol>`
        : '<p class="meta">No stories yet.</p>';
      return `<section class="topic" id="topic-${escapeHtml(topic.slug)}" aria-labelledby="title-${escapeHtml(topic.slug)}">
<h2 id="title-${escapeHtml(topic.slug)}"><a href="${escapeHtml(topicPageUrl(baseUrl, topic.slug))}">${escapeHtml(topic.title)}</a></h2>
${topic.description ? `<p>${escapeHtml(topic.description)}</p>` : ''}
${subscribeLinks(topicChannel(baseUrl, topic))}
${headlines}
</section>`;
    })
    .join('\n');
  const head = topics.map(({ topic }) => alternateLinks(topicChannel(baseUrl, topic))).join('\n');
  const note = sources
    ? `<p class="status">${escapeHtml(sources.summary)}${sources.href ? ` — see <a href="${escapeHtml(sources.href)}">sources</a>` : ''}.</p>`
    : '';
  const body = `<header><h1>Wirefeed</h1><p>Topic feeds from the news wires. Subscribe in any feed reader, one by one or all at once: <a href="${escapeHtml(baseUrl)}/opml" type="text/x-opml">every topic</a> · <a href="${escapeHtml(baseUrl)}/opml/digests" type="text/x-opml">their daily digests</a> (OPML).</p>${note}${search ? searchFormHtml(baseUrl, '') : ''}</header>
<main>${sections || '<p>No topics are configured.</p>'}</main>`;
  return layout('Wirefeed topics', head, body);
}

/**
 * A page of stories, newest first: a topic's, or a search's. `header` is HTML under the title (a topic's
 * description, the search form), `older` the next page's URL, `empty` what stands in for no stories.
 */
export function renderStoriesPage(
  channel: Channel,
  entries: FeedEntry[],
  options: { baseUrl: string; header?: string; older?: string; empty?: string; indexLink?: boolean },
): string {
  const stories = entries
    .map(
      (entry) => `<article class="story" id="story-${escapeHtml(entry.storyId)}">
<h2>${entry.url ? `<a href="${escapeHtml(entry.url)}">${escapeHtml(entry.title)}</a>` : escapeHtml(entry.title)}</h2>
<p class="meta">${byline(entry.sourceTitle ?? entry.sourceId, entry.author)} · ${timeHtml(entry.publishedAt)}</p>
${entry.summary ? `<p>${escapeHtml(entry.summary)}</p>` : ''}
${alsoReportedHtml(entry)}
</article>`,
    )
    .join('\n');
  const { baseUrl, header = '', older, empty = 'No stories yet.', indexLink = true } = options;
  const body = `<header>${indexLink ? `<p><a href="${escapeHtml(baseUrl)}/">All topics</a></p>` : ''}<h1>${escapeHtml(channel.title)}</h1>
${header}
${subscribeLinks(channel)}</header>
<main>${stories || `<p class="meta">${escapeHtml(empty)}</p>`}
${older ? `<nav class="pages" aria-label="Pages"><a href="${escapeHtml(older)}" rel="next">Older stories</a></nav>` : ''}</main>`;
  return layout(`${channel.title} · Wirefeed`, alternateLinks(channel), body);
}

/** Where a topic's daily digest is, in each format. */
function digestLinks(baseUrl: string, slug: string): string {
  const links = FORMATS.map(({ format, label, type }) => `<a href="${escapeHtml(digestUrl(baseUrl, slug, format))}" type="${type}">${label}</a>`);
  return `<p class="meta">Daily digest (one entry a day): ${links.join(' · ')}</p>`;
}

/** A topic's page; `indexLink` false for a reader the index would refuse (one with the topic's own token). */
export function renderTopicPage(baseUrl: string, topic: Topic, entries: FeedEntry[], page: { older?: string; indexLink?: boolean } = {}): string {
  const header = `${topic.description ? `<p>${escapeHtml(topic.description)}</p>` : ''}${digestLinks(baseUrl, topic.slug)}`;
  return renderStoriesPage(topicChannel(baseUrl, topic), entries, { baseUrl, header, ...page });
}
