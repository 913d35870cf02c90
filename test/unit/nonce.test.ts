// The webview's CSP nonce comes from a cryptographic source, not Math.random.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { webviewNonce } from '../../src/core/nonce';

test('the webview nonce: 32 base64 characters from crypto, never Math.random', (t) => {
  t.mock.method(Math, 'random', () => {
    throw new Error('Math.random used for a nonce');
  });
  const seen = new Set<string>();
  for (let i = 0; i < 100; i++) {
    const n = webviewNonce();
    assert.match(n, /^[A-Za-z0-9+/]{32}$/);
    seen.add(n);
  }
  assert.equal(seen.size, 100);
});
