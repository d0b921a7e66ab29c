import { pino } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const wanted = process.env.LOG_LEVEL?.trim().toLowerCase();

/** One JSON line per event on stderr (stdout stays free for command output). LOG_LEVEL=silent mutes it. */
export const log = pino(
  {
    level: wanted && LEVELS.includes(wanted) ? wanted : 'info',
    base: { service: 'wirefeed' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  pino.destination({ fd: 2, sync: true }),
);

if (wanted && !LEVELS.includes(wanted)) log.warn({ LOG_LEVEL: process.env.LOG_LEVEL, levels: LEVELS }, 'unknown LOG_LEVEL; logging at info');

/** Whether the operator chose a level; one-shot commands default to warnings only when not. */
export const logLevelChosen = Boolean(wanted && LEVELS.includes(wanted));
