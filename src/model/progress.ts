/** Progress of long work (an ingest pass, a topic backfill), reported to whoever started it. */
export interface Progress {
  /** `by` more of the total are done; `detail` names the latest (a source id). */
  advance(by?: number, detail?: string): void;
  /** Clears the bar (on a terminal) or prints the final line. */
  finish(): void;
}

/** How a caller that may run unattended asks for progress; `silentProgress` for none. */
export type ProgressFactory = (label: string, total: number, unit: string) => Progress;

export const silentProgress: ProgressFactory = () => ({ advance() {}, finish() {} });
