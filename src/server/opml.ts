import type { Topic } from '../config/load.js';
import { escapeHtml, feedUrl, topicPageUrl } from './render.js';

/** OPML 2.0 listing every topic feed (Atom), for one-step subscription in a feed reader. */
export function renderOpml(topics: readonly Topic[], baseUrl: string, dateModified: Date): string {
  const outlines = topics
    .map(
      (topic) =>
        `    <outline type="rss" text="${escapeHtml(topic.title)}" title="${escapeHtml(topic.title)}" xmlUrl="${escapeHtml(feedUrl(baseUrl, topic.slug, 'atom'))}" htmlUrl="${escapeHtml(topicPageUrl(baseUrl, topic.slug))}"${topic.description ? ` description="${escapeHtml(topic.description)}"` : ''}/>`,
    )
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head>
    <title>Wirefeed topics</title>
    <dateModified>${dateModified.toUTCString()}</dateModified>
    <docs>http://opml.org/spec2.opml</docs>
  </head>
  <body>
${outlines}
  </body>
</opml>
`;
}
