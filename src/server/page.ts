import { escapeHtml } from '../model/escape.js';
import type { FeedEntry, Headline } from '../model/story.js';
import type { Topic } from '../model/topic.js';
import { type FeedFormat, feedUrl, topicPageUrl } from '../model/urls.js';
import { alsoReportedHtml } from './render.js';

const FORMATS: Array<{ format: FeedFormat; label: string; type: string }> = [
  { format: 'rss', label: 'RSS', type: 'application/rss+xml' },
  { format: 'atom', label: 'Atom', type: 'application/atom+xml' },
  { format: 'json', label: 'JSON Feed', type: 'application/feed+json' },
];

const STYLE = `
  :root { color-scheme: light dark; --muted: #667; --accent: #0b5cad; }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 46rem; margin: 0 auto; padding: 1.5rem 1rem 4rem; }
  header p, .meta, footer { color: var(--muted); }
  h1 { margin-bottom: .25rem; } h2 { margin: 0 0 .25rem; font-size: 1.25rem; }
  section.topic { border-top: 1px solid #8884; padding: 1.25rem 0; }
  ul.subscribe { list-style: none; padding: 0; display: flex; gap: .5rem; flex-wrap: wrap; }
  ul.subscribe a { display: inline-block; padding: .2rem .7rem; border: 1px solid currentColor; border-radius: 1rem;
    color: var(--accent); text-decoration: none; }
  ul.subscribe a:focus-visible, a:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  ol.headlines { padding-left: 1.2rem; } ol.headlines li { margin: .35rem 0; }
  article.story { border-top: 1px solid #8884; padding: 1rem 0; }
  article.story img { max-width: 100%; height: auto; }
`;

function layout(title: string, head: string, body: string): string {
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
</body>
</html>
`;
}

function alternateLinks(baseUrl: string, topic: Topic): string {
  return FORMATS.map(
    ({ format, type }) => `<link rel="alternate" type="${type}" title="${escapeHtml(topic.title)}" href="${escapeHtml(feedUrl(baseUrl, topic.slug, format))}">`,
  ).join('\n');
}

function subscribeLinks(baseUrl: string, topic: Topic): string {
  const links = FORMATS.map(
    ({ format, label, type }) =>
      `<li><a href="${escapeHtml(feedUrl(baseUrl, topic.slug, format))}" type="${type}" aria-label="${escapeHtml(`${topic.title} as ${label}`)}">${label}</a></li>`,
  ).join('');
  return `<ul class="subscribe" aria-label="Subscribe">${links}</ul>`;
}

const formatDate = (date: Date) => `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

export function renderIndexPage(baseUrl: string, topics: Array<{ topic: Topic; latest: Headline[] }>): string {
  const sections = topics
    .map(({ topic, latest }) => {
      const headlines = latest.length
        ? `<ol class="headlines">${latest
            .map(
              (entry) =>
                `<li><a href="${escapeHtml(entry.url ?? topicPageUrl(baseUrl, topic.slug))}">${escapeHtml(entry.title)}</a> <span class="meta">${escapeHtml(entry.sourceTitle ?? entry.sourceId)}, ${formatDate(entry.publishedAt)}</span></li>`,
            )
            .join('')}</ol>`
        : '<p class="meta">No stories yet.</p>';
      return `<section class="topic" id="topic-${escapeHtml(topic.slug)}" aria-labelledby="title-${escapeHtml(topic.slug)}">
<h2 id="title-${escapeHtml(topic.slug)}"><a href="${escapeHtml(topicPageUrl(baseUrl, topic.slug))}">${escapeHtml(topic.title)}</a></h2>
${topic.description ? `<p>${escapeHtml(topic.description)}</p>` : ''}
${subscribeLinks(baseUrl, topic)}
${headlines}
</section>`;
    })
    .join('\n');
  const head = topics.map(({ topic }) => alternateLinks(baseUrl, topic)).join('\n');
  const body = `<header><h1>Wirefeed</h1><p>Topic feeds from the news wires. Subscribe in any feed reader.</p></header>
<main>${sections || '<p>No topics are configured.</p>'}</main>`;
  return layout('Wirefeed topics', head, body);
}

export function renderTopicPage(baseUrl: string, topic: Topic, entries: FeedEntry[]): string {
  const stories = entries
    .map(
      (entry) => `<article class="story" id="story-${escapeHtml(entry.storyId)}">
<h2>${entry.url ? `<a href="${escapeHtml(entry.url)}">${escapeHtml(entry.title)}</a>` : escapeHtml(entry.title)}</h2>
<p class="meta">${escapeHtml(entry.sourceTitle ?? entry.sourceId)}${entry.author ? ` · ${escapeHtml(entry.author)}` : ''} · <time datetime="${entry.publishedAt.toISOString()}">${formatDate(entry.publishedAt)}</time></p>
${entry.summary ? `<p>${escapeHtml(entry.summary)}</p>` : ''}
${alsoReportedHtml(entry)}
</article>`,
    )
    .join('\n');
  const body = `<header><p><a href="${escapeHtml(baseUrl)}/">All topics</a></p><h1>${escapeHtml(topic.title)}</h1>
${topic.description ? `<p>${escapeHtml(topic.description)}</p>` : ''}
${subscribeLinks(baseUrl, topic)}</header>
<main>${stories || '<p class="meta">No stories yet.</p>'}</main>`;
  return layout(`${topic.title} · Wirefeed`, alternateLinks(baseUrl, topic), body);
}
