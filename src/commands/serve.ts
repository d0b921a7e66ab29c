import { serviceCommand } from './service.js';

export const serve = serviceCommand('run only the feed server', 'serve [--config DIR]', { worker: false, server: true });
