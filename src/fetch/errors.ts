/** Response headers that steer scheduling. */
export interface CacheHints {
  date?: string;
  cacheControl?: string;
  expires?: string;
  retryAfter?: string;
}

export type FetchErrorKind = 'http' | 'gone' | 'network' | 'timeout' | 'too-large' | 'refused' | 'redirects' | 'file' | 'aborted';

export class FetchError extends Error {
  constructor(
    message: string,
    readonly kind: FetchErrorKind,
    readonly status?: number,
    readonly hints: CacheHints = {},
  ) {
    super(message);
    this.name = 'FetchError';
  }
}

const NETWORK_ERRORS: Record<string, string> = {
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup timed out',
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by the server',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  HPE_HEADER_OVERFLOW: 'response headers too large',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'self-signed TLS certificate',
  ERR_TLS_CERT_ALTNAME_INVALID: 'TLS certificate does not match the host',
};

/** A socket's error as a fetch's message says it: its code and what that means ("ECONNREFUSED (connection refused)"). */
export function networkErrorText(error: unknown): string {
  const cause = error as { code?: string; message?: string; cause?: unknown } | undefined;
  const code = cause?.code ?? (cause?.cause as { code?: string } | undefined)?.code;
  const meaning = code ? NETWORK_ERRORS[code] : undefined;
  return `${code ?? cause?.message ?? String(error)}${meaning ? ` (${meaning})` : ''}`;
}
