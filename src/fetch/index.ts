import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_FETCH_LIMITS, type FetchLimits } from '../model/settings.js';
import type { NetworkPolicy, ProxySetting, SourceCredentials } from '../model/source.js';
import { decodeFeedBody } from './decode.js';
import { FetchError } from './errors.js';
import { type HttpClient, type HttpResult, httpFetch } from './http.js';

export { decodeFeedBody } from './decode.js';
export { type CacheHints, FetchError, type FetchErrorKind } from './errors.js';
export { isPublicAddress, nonPublicRangesFor } from './guard.js';
export { credentialHeaders, HttpClient, httpPost, type PostRequest, type Redirect, USER_AGENT } from './http.js';

export interface FetchRequest {
  url: string;
  etag?: string | null;
  lastModified?: string | null;
  network: NetworkPolicy;
  /** The source's own headers (Authorization, an API key): sent to its own site only. */
  credentials?: SourceCredentials | undefined;
  /** The proxy the fetch goes through (the source's, or `fetch.proxy` for a command's own fetches). */
  proxy?: ProxySetting | undefined;
  limits?: Partial<FetchLimits>;
  /** Abandons the fetch (shutdown). */
  signal?: AbortSignal;
}

/** What httpFetch answers, with the body decoded to text. */
export type FetchResult =
  | Extract<HttpResult, { kind: 'not-modified' }>
  | (Omit<Extract<HttpResult, { kind: 'ok' }>, 'body' | 'contentType'> & {
      /** The document, decoded to text (see decodeFeedBody). */
      text: string;
      bytes: number;
      encoding: string;
    });

async function fetchFile(url: string, maxBytes: number): Promise<FetchResult> {
  const path = fileURLToPath(url);
  let bytes: Buffer;
  try {
    const info = await stat(path);
    if (info.size > maxBytes) throw new FetchError(`file of ${info.size} bytes exceeds the ${maxBytes}-byte limit`, 'too-large');
    bytes = await readFile(path);
  } catch (error) {
    if (error instanceof FetchError) throw error;
    throw new FetchError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, 'file');
  }
  const decoded = decodeFeedBody(bytes);
  return { kind: 'ok', status: 200, text: decoded.text, bytes: bytes.byteLength, encoding: decoded.encoding, finalUrl: url, redirects: [], hints: {} };
}

/** Fetches a feed document (http, https or file:) and decodes it to text. Throws FetchError. */
export async function fetchFeed(client: HttpClient, request: FetchRequest): Promise<FetchResult> {
  const limits = { ...DEFAULT_FETCH_LIMITS, ...request.limits };
  if (/^file:/i.test(request.url)) return fetchFile(request.url, limits.maxBytes);
  const response = await httpFetch(client, request.url, {
    ...limits,
    etag: request.etag,
    lastModified: request.lastModified,
    network: request.network,
    credentials: request.credentials,
    proxy: request.proxy,
    signal: request.signal,
  });
  if (response.kind === 'not-modified') return response;
  const decoded = decodeFeedBody(response.body, response.contentType);
  return {
    kind: 'ok',
    status: response.status,
    text: decoded.text,
    bytes: response.body.byteLength,
    encoding: decoded.encoding,
    etag: response.etag,
    lastModified: response.lastModified,
    finalUrl: response.finalUrl,
    redirects: response.redirects,
    hints: response.hints,
    ...(response.push ? { push: response.push } : {}),
  };
}
