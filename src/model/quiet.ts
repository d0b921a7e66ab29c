/**
 * Quiet sources: fetched without error, yet bringing nothing new for far longer than their own pace allows (a feed
 * frozen by a site's move to a new system, a cache serving one copy for ever, a feed URL kept alive empty). The
 * fetches succeed, so nothing else says so. FreshRSS lists "idle feeds" by fixed spans for all; here each source is
 * judged by its own history (a wire silent for six hours is news, a weekday column silent over a weekend is not), or
 * by its own `quietAfter`.
 */

/** A source's items over the QUIET_RULE window up to its newest one, by their dates. */
export interface SourcePace {
  count: number;
  oldest: Date;
  newest: Date;
  /** The longest time between two of those items one after the other (0 for a single item). */
  longestGapSeconds: number;
}

export const QUIET_RULE = {
  /** The history read: the items of the 30 days up to a source's newest. */
  windowSeconds: 30 * 86_400,
  /** Fewer items in it: too rare to judge by its pace. */
  minItems: 10,
  /** Its oldest item at least this long before the check: a week of history holds its weekend and its nights. */
  minHistorySeconds: 7 * 86_400,
  /** A silence longer than this many times its longest gap is quiet... */
  factor: 1.5,
  /** ...and never one shorter than this. */
  floorSeconds: 6 * 3600,
} as const;

/** A source's own `quietAfter`: the silence (seconds) after which it is quiet, or never. */
export type QuietAfter = number | 'never';

export interface Quiet {
  /** Its newest item's date. */
  newest: Date;
  /** From its newest item to its last fetch. */
  silentSeconds: number;
  /** The longest silence its pace (or its `quietAfter`) allows. */
  limitSeconds: number;
  /** The longest gap of its history, where the limit comes from its pace. */
  longestGapSeconds?: number;
}

/** What a source's fetches say: a quiet source is one whose last fetch succeeded. */
export interface FetchCondition {
  lastFetchedAt: Date | null;
  errorCount: number;
  goneAt: Date | null;
}

/**
 * Whether a source is quiet, as of its last fetch (so a stopped worker makes no source look quiet): the time since its
 * newest item longer than its `quietAfter`, or, without one, than QUIET_RULE allows for its pace. Undefined for a
 * source that failed, is gone, was never fetched, holds no item, or whose history is too short or too thin to judge.
 */
export function quietness(condition: FetchCondition, pace: SourcePace | undefined, quietAfter?: QuietAfter): Quiet | undefined {
  const checkedAt = condition.lastFetchedAt;
  if (!pace || !checkedAt || condition.errorCount > 0 || condition.goneAt || quietAfter === 'never') return undefined;
  const silentSeconds = Math.max(0, Math.round((checkedAt.getTime() - pace.newest.getTime()) / 1000));
  if (quietAfter !== undefined) return silentSeconds > quietAfter ? { newest: pace.newest, silentSeconds, limitSeconds: quietAfter } : undefined;
  const historySeconds = (checkedAt.getTime() - pace.oldest.getTime()) / 1000;
  if (pace.count < QUIET_RULE.minItems || historySeconds < QUIET_RULE.minHistorySeconds) return undefined;
  const limitSeconds = Math.max(Math.round(QUIET_RULE.factor * pace.longestGapSeconds), QUIET_RULE.floorSeconds);
  return silentSeconds > limitSeconds ? { newest: pace.newest, silentSeconds, limitSeconds, longestGapSeconds: pace.longestGapSeconds } : undefined;
}

/** A span as a reader says it, rounded: "45 min", "7 h", "3 d". */
export function roughSpan(seconds: number): string {
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} d`;
}

/** "nothing new for 3 d (its longest gap in 30 days: 26 h)", or "(quietAfter: 2 d)". */
export function quietText(quiet: Quiet): string {
  const why =
    quiet.longestGapSeconds === undefined
      ? `quietAfter: ${roughSpan(quiet.limitSeconds)}`
      : `its longest gap in ${QUIET_RULE.windowSeconds / 86_400} days: ${roughSpan(quiet.longestGapSeconds)}`;
  return `nothing new for ${roughSpan(quiet.silentSeconds)} (${why})`;
}

/**
 * Rows about sources, each with its pace, judged by its configured source (its `quietAfter`): `quiet` on those that
 * are. A paused source, or one no longer configured, is never judged.
 */
export function withQuiet<T extends FetchCondition & { id: string; pace?: SourcePace }>(
  rows: readonly T[],
  sources: ReadonlyArray<{ id: string; paused?: boolean; quietAfter?: QuietAfter }>,
): Array<T & { quiet?: Quiet }> {
  const configured = new Map(sources.map((source) => [source.id, source]));
  return rows.map((row) => {
    const source = configured.get(row.id);
    const quiet = source && !source.paused ? quietness(row, row.pace, source.quietAfter) : undefined;
    return quiet ? { ...row, quiet } : row;
  });
}

/** A quiet source's figures as `sources --json` and /sources.json give them. */
export const quietJson = (quiet: Quiet) => ({
  newestItemAt: quiet.newest.toISOString(),
  silentSeconds: quiet.silentSeconds,
  limitSeconds: quiet.limitSeconds,
  longestGapSeconds: quiet.longestGapSeconds ?? null,
});
