/**
 * docker-compose.yml and the Dockerfile read as an operator would, since this machine has no Docker engine to run
 * them (scripts/image-smoke.sh runs the runtime stage's commands without Docker).
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const ROOT = resolve(import.meta.dirname, '..');
const compose = parse(readFileSync(resolve(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Record<string, unknown> & { environment?: Record<string, string>; healthcheck?: Record<string, unknown> }>;
  volumes: Record<string, unknown>;
};
const dockerfile = readFileSync(resolve(ROOT, 'Dockerfile'), 'utf8');
const WIREFEED = ['migrate', 'worker', 'web'];

describe('docker-compose.yml', () => {
  it('has Postgres, a one-shot migration, a scalable worker and the feed server', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['migrate', 'postgres', 'web', 'worker']);
    expect(compose.services.migrate!.command).toEqual(['migrate']);
    expect(compose.services.migrate!.restart).toBe('no');
    expect(compose.services.worker!.command).toEqual(['worker', '--config', 'feeds']);
    expect(compose.services.web!.command).toEqual(['serve', '--config', 'feeds']);
    expect(compose.services.worker!.ports).toBeUndefined(); // scalable: no published port to collide
    expect(compose.services.web!.ports).toEqual(['8080:8080']);
  });

  it('builds the image once and runs it as every Wirefeed service', () => {
    const building = Object.entries(compose.services).filter(([, service]) => service.build !== undefined);
    expect(building.map(([name]) => name)).toEqual(['migrate']);
    const images = new Set(WIREFEED.map((name) => compose.services[name]!.image));
    expect(images).toEqual(new Set(['wirefeed:local']));
    for (const name of WIREFEED) expect(compose.services[name]!.pull_policy, name).toBe('never');
  });

  it('starts each service after what it needs is ready', () => {
    expect(compose.services.migrate!.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
    for (const name of ['worker', 'web']) expect(compose.services[name]!.depends_on).toEqual({ migrate: { condition: 'service_completed_successfully' } });
  });

  it('gives every long-running service a health check of its own, with a start period', () => {
    for (const name of ['postgres', 'worker', 'web']) {
      const check = compose.services[name]!.healthcheck;
      expect(check, name).toBeDefined();
      expect(check!.start_period, name).toMatch(/^\d+s$/);
    }
    // The worker's check asks its own METRICS_PORT, which is not the feed server's port.
    const worker = compose.services.worker!;
    expect(worker.environment!.METRICS_PORT).toBe('9090');
    expect(JSON.stringify(worker.healthcheck!.test)).toContain(`127.0.0.1:${worker.environment!.METRICS_PORT}/healthz`);
    expect(worker.environment!.METRICS_PORT).not.toBe(compose.services.web!.environment!.PORT);
    expect(JSON.stringify(compose.services.web!.healthcheck!.test)).toContain(`127.0.0.1:${compose.services.web!.environment!.PORT}/readyz`);
  });

  it('points every Wirefeed service at the same database, and mounts the config writable for sources add and opml import', () => {
    const urls = new Set(WIREFEED.map((name) => compose.services[name]!.environment!.DATABASE_URL));
    expect(urls.size).toBe(1);
    const postgres = compose.services.postgres!.environment!;
    expect([...urls][0]).toBe(`postgres://${postgres.POSTGRES_USER}:${postgres.POSTGRES_PASSWORD}@postgres:5432/${postgres.POSTGRES_DB}`);
    for (const name of WIREFEED) expect(compose.services[name]!.volumes, name).toEqual(['./feeds:/app/feeds']);
    expect(compose.services.postgres!.volumes).toEqual(['postgres-data:/var/lib/postgresql/data']);
    expect(Object.keys(compose.volumes)).toEqual(['postgres-data']);
  });
});

describe('Dockerfile', () => {
  const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));

  it('ships production dependencies and compiled code only: no tsx, no TypeScript', () => {
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist \.\/dist/);
    expect(runtime).not.toMatch(/COPY src|tsx/);
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(pkg.dependencies)).not.toContain('tsx');
    expect(Object.keys(pkg.dependencies)).not.toContain('typescript');
  });

  it('starts node with the V8 memory flags of npm start, as does the wirefeed script', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    const flags = pkg.scripts.start!.split(' ').filter((word) => word.startsWith('--'));
    expect(flags).toEqual(
      expect.arrayContaining([expect.stringMatching(/^--max-semi-space-size=\d+$/), expect.stringMatching(/^--heap-growing-percent=\d+$/)]),
    );
    const entrypoint = /^ENTRYPOINT (\[.*\])$/m.exec(runtime)?.[1];
    expect(JSON.parse(entrypoint!)).toEqual(['node', ...flags, 'dist/cli.js']);
    expect(pkg.scripts.start).toBe(['node', ...flags, 'dist/cli.js run'].join(' '));
    expect(pkg.scripts.wirefeed).toBe(['node', ...flags, 'dist/cli.js'].join(' '));
    // The shebang stays plain: `env -S` is missing from busybox and from some npm bin shims.
    expect(readFileSync(resolve(ROOT, 'src/cli.ts'), 'utf8').split('\n')[0]).toBe('#!/usr/bin/env node');
  });

  it('checks health on the worker METRICS_PORT when set, else on PORT, after a start period, as an unprivileged user', () => {
    expect(runtime).toMatch(/HEALTHCHECK [^\n]*--start-period=\d+s[^\n]*process\.env\.METRICS_PORT\|\|process\.env\.PORT/);
    expect(runtime).toMatch(/\nUSER node\n/);
  });
});
