import { renderOpml } from '../config/opml.js';
import type { Topic } from '../model/topic.js';
import { feedUrl, topicPageUrl } from '../model/urls.js';

/** OPML 2.0 listing every topic feed (Atom), for one-step subscription in a feed reader. */
export function renderTopicsOpml(topics: readonly Topic[], baseUrl: string, dateModified: Date): string {
  return renderOpml(
    { title: 'Wirefeed topics', dateModified },
    topics.map((topic) => ({
      title: topic.title,
      xmlUrl: feedUrl(baseUrl, topic.slug, 'atom'),
      htmlUrl: topicPageUrl(baseUrl, topic.slug),
      description: topic.description,
    })),
  );
}
