import { serviceCommand } from './service.js';

export const run = serviceCommand('run the worker and the feed server in one process (what npm start does)', 'run [--config DIR]', {
  worker: true,
  server: true,
});
