/** Where the feed server publishes a topic; WebSub announcements name the same URLs. */
export type FeedFormat = 'rss' | 'atom' | 'json';

export const topicPageUrl = (baseUrl: string, slug: string) => `${baseUrl}/topics/${slug}.html`;
export const feedUrl = (baseUrl: string, slug: string, format: FeedFormat) => `${baseUrl}/topics/${slug}.${format}`;
export const storyUrn = (storyId: string) => `urn:wirefeed:story:${storyId}`;
