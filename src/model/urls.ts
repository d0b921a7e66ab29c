/** Where the feed server publishes a topic; WebSub announcements name the same URLs. */
export type FeedFormat = 'rss' | 'atom' | 'json';

export const topicPageUrl = (baseUrl: string, slug: string) => `${baseUrl}/topics/${slug}.html`;
export const feedUrl = (baseUrl: string, slug: string, format: FeedFormat) => `${baseUrl}/topics/${slug}.${format}`;
export const storyUrn = (storyId: string) => `urn:wirefeed:story:${storyId}`;
/** Whether a stored link is one to put in a message or a list: an http(s) page (stored links are normalized to those). */
export const isWebLink = (url: string | null | undefined): url is string => !!url && /^https?:\/\//i.test(url);
/** Where a source's hub pushes to (WebSub's callback): the subscription's random id is all the URL holds. */
export const pushCallbackUrl = (baseUrl: string, subscriptionId: string) => `${baseUrl}/websub/${subscriptionId}`;

/** Text percent-decoded where its escapes are well-formed, else as written (a URL's part, a user name, a token). */
export function percentDecoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
