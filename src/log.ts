import { pino } from 'pino';

/** One JSON line per event on stderr (stdout stays free for command output). LOG_LEVEL=silent mutes it. */
export const log = pino(
  {
    level: process.env.LOG_LEVEL ?? 'info',
    base: { service: 'wirefeed' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  },
  pino.destination({ fd: 2, sync: true }),
);
