import { writeSync } from 'node:fs';
import { pino } from 'pino';
import { terminalJson } from './model/escape.js';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const wanted = process.env.LOG_LEVEL?.trim().toLowerCase();

const PLAIN = /^[\p{L}\p{N}_.:/@+-]+$/u;
const COLORS: Record<string, string> = { fatal: '\x1b[1;31m', error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[36m', debug: '\x1b[2m', trace: '\x1b[2m' };

/** A value as a terminal shows it: plain words as they are, anything else as JSON (quotes, control characters escaped). */
function shown(value: unknown): string {
  if (typeof value === 'string' && PLAIN.test(value)) return value;
  return terminalJson(value);
}

/**
 * One JSON log line as a person reads it on a terminal: `12:04:05 WARN  fetch failed  source=jiji error="HTTP 404"`.
 * Nothing from a feed reaches the terminal unescaped: every value but a plain word is written as JSON.
 */
export function formatLogLine(line: string, color = false): string {
  let event: Record<string, unknown>;
  try {
    event = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const { time, level, msg, service: _service, ...fields } = event;
  const clock = typeof time === 'string' ? time.slice(11, 19) : '';
  const label = String(level ?? '')
    .toUpperCase()
    .padEnd(5);
  const levelText = color && COLORS[String(level)] ? `${COLORS[String(level)]}${label}\x1b[0m` : label;
  const message = typeof msg === 'string' ? terminalJson(msg).slice(1, -1) : '';
  const rest = Object.entries(fields).map(([key, value]) => `${key}=${shown(value)}`);
  return `${clock} ${levelText} ${message}${rest.length ? `  ${rest.join(' ')}` : ''}\n`;
}

/**
 * JSON lines (one per event, for log collectors) unless stderr is a terminal, where they are formatted to read;
 * LOG_FORMAT=json or LOG_FORMAT=pretty chooses either way.
 */
function destination(): pino.DestinationStream {
  const format = process.env.LOG_FORMAT?.trim().toLowerCase();
  const pretty = format === 'pretty' || (format !== 'json' && process.stderr.isTTY === true);
  if (!pretty) return pino.destination({ fd: 2, sync: true });
  const color = process.stderr.isTTY === true;
  return { write: (line: string) => void writeSync(2, formatLogLine(line, color)) };
}

/** One event per line on stderr (stdout stays free for command output). LOG_LEVEL=silent mutes it. */
export const log = pino(
  {
    level: wanted && LEVELS.includes(wanted) ? wanted : 'info',
    base: { service: 'wirefeed' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  destination(),
);

if (wanted && !LEVELS.includes(wanted)) log.warn({ LOG_LEVEL: process.env.LOG_LEVEL, levels: LEVELS }, 'unknown LOG_LEVEL; logging at info');

/** Whether the operator chose a level; one-shot commands default to warnings only when not. */
export const logLevelChosen = Boolean(wanted && LEVELS.includes(wanted));
