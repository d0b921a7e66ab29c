/**
 * The feed server's access token (`publish.token`): every feed, page and /metrics asks for it, in the form a client
 * can give. A feed reader without a password field takes it in the URL (`/t/<token>/…` or `?token=`), one with a
 * password field as HTTP Basic's password (any user name), a browser by prompting for it, a Prometheus scraper as a
 * Bearer token. The links Wirefeed writes to its own feeds and pages carry it in their path (see tokenPath), so that
 * what a reader copies from a page or subscribes to from the OPML list works as it is.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Topic } from '../model/topic.js';
import { percentDecoded } from '../model/urls.js';

/** The query parameter a token may come in. */
export const TOKEN_PARAMETER = 'token';

const digest = (text: string) => createHash('sha256').update(text).digest();

/** Whether two tokens are the same, in time that does not tell how much of them is (digests of equal length). */
function sameToken(given: string, token: string): boolean {
  return timingSafeEqual(digest(given), digest(token));
}

/** The path prefix holding a token: `/t/<token>`. */
export const tokenPath = (token: string) => `/t/${encodeURIComponent(token)}`;

/** A request path without its token prefix, and the token it held (a URL's own decoding of the segment). */
export function splitTokenPath(pathname: string): { pathname: string; token?: string } {
  const prefixed = /^\/t\/([^/]+)(\/.*)?$/.exec(pathname);
  if (!prefixed) return { pathname };
  return { pathname: prefixed[2] ?? '/', token: percentDecoded(prefixed[1]!) };
}

/** The tokens a request offers: in its path (`pathToken`), in its query, as a Bearer token, as Basic's password. */
export function offeredTokens(request: Pick<IncomingMessage, 'headers'>, url: URL, pathToken?: string): string[] {
  const offered = [...(pathToken === undefined ? [] : [pathToken]), ...url.searchParams.getAll(TOKEN_PARAMETER)];
  const [scheme, credentials] = (request.headers.authorization ?? '').trim().split(/\s+/, 2);
  if (credentials && /^bearer$/i.test(scheme!)) offered.push(credentials);
  if (credentials && /^basic$/i.test(scheme!)) {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon >= 0) offered.push(decoded.slice(colon + 1));
  }
  return offered;
}

/**
 * Whether a request may be answered, and with which token: every request when there are no tokens, else one that
 * offers one of them (the token it offered, for the links written for it).
 */
export function accessOf(
  request: Pick<IncomingMessage, 'headers'>,
  url: URL,
  tokens: readonly string[],
  pathToken?: string,
): { granted: boolean; token?: string } {
  if (tokens.length === 0) return { granted: true };
  // Every offer is compared with every token, so the time taken tells neither which form nor which token was right.
  let granted: string | undefined;
  for (const offered of offeredTokens(request, url, pathToken)) {
    for (const token of tokens) if (sameToken(offered, token) && granted === undefined) granted = token;
  }
  return granted === undefined ? { granted: false } : { granted: true, token: granted };
}

/** A token in a request target's query. */
const QUERY_TOKEN = new RegExp(`[?&]${TOKEN_PARAMETER}=`);

/** Whether a request carries credentials of any kind: its response must not be kept by a shared cache for others. */
export const carriesCredentials = (request: Pick<IncomingMessage, 'headers' | 'url'>) =>
  request.headers.authorization !== undefined || request.url?.startsWith('/t/') === true || QUERY_TOKEN.test(request.url ?? '');

/** The paths of a topic's own routes (its feeds, page and digest), holding its slug. */
const TOPIC_ROUTE = /^\/topics\/([a-z0-9-]+)(?:\.(?:rss|atom|json|html)|\/digest\.(?:rss|atom|json))?$/;

/** The tokens of the topics that have their own, by slug: worked out once per config. */
export type TopicTokens = ReadonlyMap<string, readonly string[]>;

export const topicTokens = (topics: readonly Topic[]): TopicTokens =>
  new Map(topics.flatMap((topic) => (topic.tokens ? [[topic.slug, topic.tokens] as const] : [])));

/**
 * The tokens that open a route: publish.token's, and on a topic's own routes the topic's own (`topics[].token`: a
 * token given to one partner opens that topic alone). None: open to all.
 */
export function routeTokens(pathname: string, publishTokens: readonly string[], byTopic: TopicTokens): readonly string[] {
  if (byTopic.size === 0) return publishTokens;
  const slug = TOPIC_ROUTE.exec(pathname)?.[1];
  const own = slug === undefined ? undefined : byTopic.get(slug);
  return own ? [...publishTokens, ...own] : publishTokens;
}

/**
 * The topics a list (the index page, the OPML lists) shows a request that passed its check: every topic to a reader
 * with one of publish.token's tokens; otherwise those without tokens of their own, and those whose token the request
 * offers, with that token for the links written for it. `publicTopics` is `topics` without the ones with tokens.
 */
export function listedTopics(
  request: Pick<IncomingMessage, 'headers'>,
  url: URL,
  pathToken: string | undefined,
  topics: readonly Topic[],
  publicTopics: readonly Topic[],
  grantedByPublishToken: boolean,
): { topics: readonly Topic[]; token?: string } {
  if (grantedByPublishToken || publicTopics.length === topics.length) return { topics };
  let token: string | undefined;
  const opened = topics.filter((topic) => {
    if (!topic.tokens) return true;
    const access = accessOf(request, url, topic.tokens, pathToken);
    if (access.granted) token ??= access.token;
    return access.granted;
  });
  return opened.length === publicTopics.length ? { topics: publicTopics } : { topics: opened, ...(token === undefined ? {} : { token }) };
}
