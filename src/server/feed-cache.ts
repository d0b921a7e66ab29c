import { createHash } from 'node:crypto';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { acceptedValues } from './request.js';

/** A rendered feed in every encoding we serve, with its strong validator. */
export interface CachedBody {
  /** When the topic last changed as of this render (the topics.changed_at it was rendered for). */
  version: number;
  identity: Buffer;
  gzip?: Buffer;
  br?: Buffer;
  /** Strong ETag of the identity bytes; encodings get a suffix so each representation has its own. */
  etag: string;
}

const COMPRESS_ABOVE = 1024;

export function makeBody(text: string, version: number): CachedBody {
  const identity = Buffer.from(text);
  const etag = `"${createHash('sha256').update(identity).digest('base64url').slice(0, 27)}"`;
  if (identity.byteLength < COMPRESS_ABOVE) return { version, identity, etag };
  return {
    version,
    identity,
    etag,
    gzip: gzipSync(identity, { level: 6 }),
    br: brotliCompressSync(identity, { params: { [constants.BROTLI_PARAM_QUALITY]: 6 } }),
  };
}

/** The best encoding the client accepts that we have: br, then gzip, else identity. */
export function chooseEncoding(acceptEncoding: string | undefined, body: CachedBody): 'br' | 'gzip' | 'identity' {
  // The first mention of a coding counts (the list is sorted by q-value, so that is its highest).
  const accepted = new Map<string, number>();
  for (const { value, q } of acceptedValues(acceptEncoding ?? '')) if (!accepted.has(value)) accepted.set(value, q);
  const ok = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (body.br && ok('br')) return 'br';
  if (body.gzip && ok('gzip')) return 'gzip';
  return 'identity';
}

export function etagFor(body: CachedBody, encoding: 'br' | 'gzip' | 'identity'): string {
  return encoding === 'identity' ? body.etag : body.etag.replace(/"$/, `-${encoding === 'gzip' ? 'gz' : 'br'}"`);
}

/** If-None-Match with weak comparison (RFC 9110 13.1.2): any encoding's tag of the same content matches. */
export function matchesEtag(ifNoneMatch: string | undefined, body: CachedBody): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  const base = body.etag.slice(1, -1);
  return ifNoneMatch.split(',').some(
    (tag) =>
      tag
        .trim()
        .replace(/^W\//, '')
        .replace(/^"|"$/g, '')
        .replace(/-(gz|br)$/, '') === base,
  );
}

const bodyBytes = (body: CachedBody) => body.identity.byteLength + (body.gzip?.byteLength ?? 0) + (body.br?.byteLength ?? 0);

/**
 * Rendered feeds by request key, least recently used dropped past `maxEntries` or `maxBytes` (every encoding
 * counted): however many distinct keys clients make up, the cache stays within its bytes. A body larger than the
 * whole budget is served but not kept.
 */
export class FeedCache {
  private readonly entries = new Map<string, CachedBody>();
  private bytes = 0;
  renders = 0;

  constructor(
    private readonly maxEntries = 500,
    readonly maxBytes = 64 * 1024 * 1024,
  ) {}

  /** Bytes held now, all encodings. */
  get size(): number {
    return this.bytes;
  }

  /** The cached body for `key` if it was rendered for `version` (and now the most recently used), else undefined. */
  peek(key: string, version: number): CachedBody | undefined {
    const cached = this.entries.get(key);
    if (!cached || cached.version !== version) return undefined;
    this.entries.delete(key);
    this.entries.set(key, cached);
    return cached;
  }

  /** The cached body for `key` if it was rendered for `version`, else a fresh render (then cached). */
  async get(key: string, version: number, render: () => Promise<string>): Promise<CachedBody> {
    const cached = this.peek(key, version);
    if (cached) return cached;
    const body = makeBody(await render(), version);
    this.renders++;
    this.forget(key);
    if (bodyBytes(body) > this.maxBytes) return body;
    this.entries.set(key, body);
    this.bytes += bodyBytes(body);
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) this.forget(this.entries.keys().next().value!);
    return body;
  }

  private forget(key: string): void {
    const body = this.entries.get(key);
    if (!body) return;
    this.entries.delete(key);
    this.bytes -= bodyBytes(body);
  }
}
