import { renderOpml } from '../config/opml.js';
import type { Topic } from '../model/topic.js';
import { feedUrl, topicPageUrl } from '../model/urls.js';
import { digestUrl } from '../publish/digest.js';

/** What an OPML list holds: the topics' feeds, or their daily digests. */
export type OpmlList = 'topics' | 'digests';

/**
 * OPML 2.0 listing every topic feed (Atom), or every topic's daily digest, for one-step subscription in a feed reader
 * (with the server's access token in their URLs when it has one: `baseUrl` holds it).
 */
export function renderTopicsOpml(topics: readonly Topic[], baseUrl: string, dateModified: Date, list: OpmlList): string {
  const digests = list === 'digests';
  return renderOpml(
    { title: digests ? 'Wirefeed daily digests' : 'Wirefeed topics', dateModified },
    topics.map((topic) => ({
      title: digests ? `${topic.title} (daily digest)` : topic.title,
      xmlUrl: digests ? digestUrl(baseUrl, topic.slug, 'atom') : feedUrl(baseUrl, topic.slug, 'atom'),
      htmlUrl: topicPageUrl(baseUrl, topic.slug),
      description: topic.description,
    })),
  );
}
