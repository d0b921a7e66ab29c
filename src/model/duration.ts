const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses "30s", "15m", "1h30m" or "2d" into seconds; returns undefined for anything else. */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d{1,9}[smhd])+$/.test(trimmed)) return undefined;
  let seconds = 0;
  for (const [, amount, unit] of trimmed.matchAll(/(\d{1,9})([smhd])/g)) {
    seconds += Number(amount) * UNIT_SECONDS[unit!]!;
  }
  return seconds;
}

/** Seconds as the shortest duration that says them in one unit (900 -> "15m", 90 -> "90s"): parseDuration's inverse. */
export function formatDuration(seconds: number): string {
  for (const unit of ['d', 'h', 'm'] as const) if (seconds % UNIT_SECONDS[unit]! === 0) return `${seconds / UNIT_SECONDS[unit]!}${unit}`;
  return `${seconds}s`;
}

/** A duration setting that may be `never` (null or 'never' here) as the YAML writes it: "30d", "never"; undefined when unset. */
export const formatDurationOrNever = (seconds: number | null | 'never' | undefined): string | undefined =>
  seconds === undefined ? undefined : seconds === null || seconds === 'never' ? 'never' : formatDuration(seconds);
