import type { Redirect } from '../fetch/index.js';

/** Fetches in a row that must end at the same permanent-redirect target before we adopt it as the source's URL. */
export const PERMANENT_REDIRECT_CONFIRMATIONS = 3;

export interface RedirectState {
  fetchUrl: string | null;
  redirectTarget: string | null;
  redirectCount: number;
}

/**
 * Follows a source across moves without trusting one response: a chain made only of 301/308 that ends at the same
 * URL on PERMANENT_REDIRECT_CONFIRMATIONS fetches in a row becomes the URL we fetch. A 302/307 anywhere in the chain,
 * or no redirect, resets the count. (The chain already passed the address guard on every hop.)
 */
export function trackRedirects(state: RedirectState, redirects: readonly Redirect[], finalUrl: string): RedirectState & { moved: boolean } {
  const permanent = redirects.length > 0 && redirects.every((hop) => hop.status === 301 || hop.status === 308);
  if (!permanent) return { fetchUrl: state.fetchUrl, redirectTarget: null, redirectCount: 0, moved: false };
  const count = state.redirectTarget === finalUrl ? state.redirectCount + 1 : 1;
  if (count >= PERMANENT_REDIRECT_CONFIRMATIONS) return { fetchUrl: finalUrl, redirectTarget: null, redirectCount: 0, moved: true };
  return { fetchUrl: state.fetchUrl, redirectTarget: finalUrl, redirectCount: count, moved: false };
}
