import { readFile, stat } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { decodeFeedBody } from './decode.js';

export { decodeFeedBody } from './decode.js';

export const USER_AGENT = 'Wirefeed/0.1 (+https://github.com/wirefeed/wirefeed)';

export interface FetchOptions {
  etag?: string | null;
  lastModified?: string | null;
  timeoutMs?: number;
  maxBytes?: number;
}

export type FetchResult =
  | { kind: 'not-modified'; status: 304 }
  | {
      kind: 'ok';
      status: number;
      text: string;
      bytes: number;
      etag?: string;
      lastModified?: string;
      finalUrl: string;
    };

export class FetchError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

const DEFAULT_TIMEOUT_MS = 20_000;
const DEFAULT_MAX_BYTES = 15 * 1024 * 1024;

async function readCapped(response: Response, maxBytes: number): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) throw new FetchError(`body of ${declared} bytes exceeds the ${maxBytes}-byte limit`, response.status);
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (response.body) {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      total += chunk.byteLength;
      if (total > maxBytes) throw new FetchError(`body exceeds the ${maxBytes}-byte limit`, response.status);
      chunks.push(chunk);
    }
  }
  return Buffer.concat(chunks, total);
}

async function fetchFile(url: string, maxBytes: number): Promise<FetchResult> {
  const path = fileURLToPath(url);
  try {
    const info = await stat(path);
    if (info.size > maxBytes) throw new FetchError(`file of ${info.size} bytes exceeds the ${maxBytes}-byte limit`);
    const bytes = await readFile(path);
    return { kind: 'ok', status: 200, text: decodeFeedBody(bytes).text, bytes: bytes.byteLength, finalUrl: url };
  } catch (error) {
    if (error instanceof FetchError) throw error;
    throw new FetchError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** Fetches a feed document with conditional GET, a deadline and a body cap, and decodes it to text. */
export async function fetchFeed(url: string, options: FetchOptions = {}): Promise<FetchResult> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (url.startsWith('file:')) return fetchFile(url, maxBytes);
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    accept: 'application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.8',
  };
  if (options.etag) headers['if-none-match'] = options.etag;
  if (options.lastModified) headers['if-modified-since'] = options.lastModified;
  const signal = AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  let response: Response;
  try {
    response = await fetch(url, { headers, signal, redirect: 'follow' });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    const reason = signal.aborted ? 'timed out' : (cause?.code ?? cause?.message ?? (error as Error).message);
    throw new FetchError(`request failed: ${reason}`);
  }
  try {
    if (response.status === 304) return { kind: 'not-modified', status: 304 };
    if (!response.ok) throw new FetchError(`HTTP ${response.status} ${response.statusText}`.trim(), response.status);
    const body = await readCapped(response, maxBytes);
    return {
      kind: 'ok',
      status: response.status,
      text: decodeFeedBody(body, response.headers.get('content-type') ?? undefined).text,
      bytes: body.byteLength,
      etag: response.headers.get('etag') ?? undefined,
      lastModified: response.headers.get('last-modified') ?? undefined,
      finalUrl: response.url || url,
    };
  } catch (error) {
    if (signal.aborted) throw new FetchError('request timed out while reading the body', response.status);
    throw error;
  } finally {
    // Release the socket whatever happened to the body.
    await response.body?.cancel().catch(() => {});
  }
}
