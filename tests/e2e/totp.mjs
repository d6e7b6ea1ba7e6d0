// TOTP as an authenticator app computes it, for the browser test: RFC 6238 (HMAC-SHA-1, 30 s
// steps, 6 digits) over a base32 secret (RFC 4648), checked against RFC 6238's own vectors.
import { createHmac } from 'node:crypto';

// RFC 6238 TOTP: HMAC-SHA-1 over the 30 s step, 6 digits (RFC 4226 section 5.3).
export const STEP_SECONDS = 30;
export const currentStep = () => Math.floor(Date.now() / 1000 / STEP_SECONDS);

export function base32(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const out = [];
  let bits = 0;
  let value = 0;
  for (const c of text.replace(/[\s=-]/g, '').toUpperCase()) {
    const i = alphabet.indexOf(c);
    if (i < 0) throw new Error(`the secret \`${text}\` is not base32`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((value >>> bits) & 0xff);
      value &= (1 << bits) - 1;
    }
  }
  return Buffer.from(out);
}

export function totp(key, step) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac('sha1', key).update(counter).digest();
  const at = mac[mac.length - 1] & 0x0f;
  const n = (mac.readUInt32BE(at) & 0x7fffffff) % 1_000_000;
  return String(n).padStart(6, '0');
}

// RFC 6238 appendix B, SHA-1 rows (8 digits there; the last 6 are the 6-digit code).
const VECTORS = [[59, '287082'], [1111111109, '081804'], [1111111111, '050471'],
  [1234567890, '005924'], [2000000000, '279037'], [20000000000, '353130']];

export function selfCheck() {
  const key = base32('GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ');
  if (key.toString() !== '12345678901234567890') throw new Error('base32 decoding is wrong');
  for (const [time, want] of VECTORS) {
    const got = totp(key, Math.floor(time / STEP_SECONDS));
    if (got !== want) throw new Error(`TOTP at ${time}: got ${got}, want ${want} (RFC 6238)`);
  }
}
