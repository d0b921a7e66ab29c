import { renderOpml } from '../config/opml.js';
import type { Topic } from '../model/topic.js';
import { feedUrl, topicPageUrl } from '../model/urls.js';
import { digestUrl } from '../publish/digest.js';
import { TOKEN_PARAMETER } from './access.js';

/** What an OPML list holds: the topics' feeds, or their daily digests. */
export type OpmlList = 'topics' | 'digests';

/**
 * OPML 2.0 listing every topic feed (Atom), or every topic's daily digest, for one-step subscription in a feed reader:
 * with the server's access token in each feed's URL when it has one (the list itself is only served to who has it).
 */
export function renderTopicsOpml(topics: readonly Topic[], baseUrl: string, dateModified: Date, list: OpmlList, token?: string): string {
  const withToken = (url: string) => (token === undefined ? url : `${url}?${TOKEN_PARAMETER}=${encodeURIComponent(token)}`);
  const digests = list === 'digests';
  return renderOpml(
    { title: digests ? 'Wirefeed daily digests' : 'Wirefeed topics', dateModified },
    topics.map((topic) => ({
      title: digests ? `${topic.title} (daily digest)` : topic.title,
      xmlUrl: withToken(digests ? digestUrl(baseUrl, topic.slug, 'atom') : feedUrl(baseUrl, topic.slug, 'atom')),
      htmlUrl: topicPageUrl(baseUrl, topic.slug),
      description: topic.description,
    })),
  );
}
