import type { Topic } from '../config/load.js';
import { escapeXmlAttribute } from '../model/escape.js';
import { feedUrl, topicPageUrl } from './render.js';

/** OPML 2.0 listing every topic feed (Atom), for one-step subscription in a feed reader. */
export function renderOpml(topics: readonly Topic[], baseUrl: string, dateModified: Date): string {
  const outlines = topics
    .map(
      (topic) =>
        `    <outline type="rss" text="${escapeXmlAttribute(topic.title)}" title="${escapeXmlAttribute(topic.title)}" xmlUrl="${escapeXmlAttribute(feedUrl(baseUrl, topic.slug, 'atom'))}" htmlUrl="${escapeXmlAttribute(topicPageUrl(baseUrl, topic.slug))}"${topic.description ? ` description="${escapeXmlAttribute(topic.description)}"` : ''}/>`,
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
