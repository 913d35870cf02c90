// The nonce of a webview's Content-Security-Policy: it must not be guessable, so it comes from
// the operating system's cryptographic random source, never from Math.random.
import { randomBytes } from 'node:crypto';

/** 192 random bits as 32 base64 characters (no padding). */
export function webviewNonce(): string {
  return randomBytes(24).toString('base64');
}
