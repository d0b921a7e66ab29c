import { serviceCommand } from './service.js';

export const worker = serviceCommand('run only the scheduled fetch worker', 'worker [--config DIR]', { worker: true, server: false });
