/** How a webhook delivery is signed and when a failed one is tried again: pure functions, as tables. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { webhookHeaders, webhookSignature } from '../src/publish/webhook.js';
import { retryDelaySeconds } from '../src/worker/webhooks.js';

describe('webhookSignature', () => {
  it('signs as the Standard Webhooks specification does (its published example)', () => {
    expect(webhookSignature('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, '{"test": 2432232314}')).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it.each([
    ['a secret without the whsec_ prefix is its UTF-8 bytes', 'correct horse battery staple', Buffer.from('correct horse battery staple')],
    ['a whsec_ secret is its base64 bytes', `whsec_${Buffer.from('key bytes \u00ff').toString('base64')}`, Buffer.from('key bytes \u00ff')],
    ['non-ASCII text secrets are UTF-8', 'ひみつ', Buffer.from('ひみつ', 'utf8')],
  ])('%s', (_case, secret, key) => {
    const body = '{"items":[]}';
    expect(webhookSignature(secret, 'topic-1-3-3', 1717286779, body)).toBe(
      `v1,${createHmac('sha256', key).update(`topic-1-3-3.1717286779.${body}`).digest('base64')}`,
    );
  });

  it('covers the id, the time and every byte of the body', () => {
    const base = webhookSignature('s', 'id', 1, 'body');
    expect(new Set([base, webhookSignature('s', 'id2', 1, 'body'), webhookSignature('s', 'id', 2, 'body'), webhookSignature('s', 'id', 1, 'body ')]).size).toBe(
      4,
    );
  });
});

describe('webhookHeaders', () => {
  it('sends the id and time always, and a signature only with a secret', () => {
    const signed = webhookHeaders(
      { name: '', url: 'http://127.0.0.1:1/hook', secret: 's' },
      'japan-us-7-9-3',
      1717286779,
      '{}',
      'application/feed+json; charset=utf-8',
    );
    expect(signed).toMatchObject({
      'content-type': 'application/feed+json; charset=utf-8',
      'webhook-id': 'japan-us-7-9-3',
      'webhook-timestamp': '1717286779',
      'webhook-signature': webhookSignature('s', 'japan-us-7-9-3', 1717286779, '{}'),
    });
    expect(webhookHeaders({ name: '', url: 'http://127.0.0.1:1/hook' }, 'x', 1, '{}', 'application/json')).not.toHaveProperty('webhook-signature');
  });
});

describe('retryDelaySeconds', () => {
  it.each([
    [1, 60],
    [2, 120],
    [3, 240],
    [6, 1_920],
    [7, 3_600],
    [40, 3_600],
    [0, 60],
  ])('after attempt %i: %i s', (attempts, seconds) => {
    expect(retryDelaySeconds(attempts)).toBe(seconds);
  });
});
