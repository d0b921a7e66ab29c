import { type Progress, silentProgress } from '../model/progress.js';

export interface ProgressOutput {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  output?: ProgressOutput;
  /** Plain mode: the shortest time between two lines. */
  intervalMs?: number;
  now?: () => number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

/**
 * Progress of long command-line work (an ingest pass, a topic backfill) on stderr: a redrawn bar on a terminal,
 * plain lines at most every few seconds otherwise (logs, CI, cron mail), so the output stays readable either way.
 */
export function startProgress(label: string, total: number, unit: string, options: ProgressOptions = {}): Progress {
  // Nothing to do (a new topic on an empty store): nothing to report.
  if (total === 0) return silentProgress('', 0, unit);
  const output = options.output ?? process.stderr;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? 5000;
  const startedAt = now();
  let done = 0;
  let detail = '';
  let lastDrawn = startedAt;
  const percent = () => (total === 0 ? 100 : Math.floor((done / total) * 100));
  const seconds = () => ((now() - startedAt) / 1000).toFixed(1);

  const draw = () => {
    const filled = total === 0 ? BAR_WIDTH : Math.round((done / total) * BAR_WIDTH);
    const line = `${label} [${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${done}/${total} ${unit} ${percent()}%${detail ? ` ${detail}` : ''}`;
    output.write(`\r\x1b[K${line.slice(0, Math.max(20, (output.columns ?? 80) - 1))}`);
  };
  const line = (text: string) => output.write(`${label}: ${text}\n`);

  if (output.isTTY) draw();
  else line(`0/${total} ${unit}`);
  return {
    advance(by = 1, latest) {
      done = Math.min(total, done + by);
      if (latest) detail = latest;
      const time = now();
      if (output.isTTY) {
        if (time - lastDrawn < REDRAW_MS && done < total) return;
        lastDrawn = time;
        draw();
      } else if (time - lastDrawn >= intervalMs && done < total) {
        lastDrawn = time;
        line(`${done}/${total} ${unit} (${percent()}%) after ${seconds()}s`);
      }
    },
    finish() {
      if (output.isTTY) output.write('\r\x1b[K');
      else line(`${done}/${total} ${unit} done in ${seconds()}s`);
    },
  };
}
