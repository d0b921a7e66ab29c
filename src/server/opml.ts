import { renderOpml } from '../config/opml.js';
import type { Topic } from '../model/topic.js';
import { feedUrl, topicPageUrl } from '../model/urls.js';
import { TOKEN_PARAMETER } from './access.js';

/**
 * OPML 2.0 listing every topic feed (Atom), for one-step subscription in a feed reader: with the server's access
 * token in each feed's URL when it has one (the list itself is only served to who has the token).
 */
export function renderTopicsOpml(topics: readonly Topic[], baseUrl: string, dateModified: Date, token?: string): string {
  const withToken = (url: string) => (token === undefined ? url : `${url}?${TOKEN_PARAMETER}=${encodeURIComponent(token)}`);
  return renderOpml(
    { title: 'Wirefeed topics', dateModified },
    topics.map((topic) => ({
      title: topic.title,
      xmlUrl: withToken(feedUrl(baseUrl, topic.slug, 'atom')),
      htmlUrl: topicPageUrl(baseUrl, topic.slug),
      description: topic.description,
    })),
  );
}
