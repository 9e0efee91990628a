/** Answer ids like Python's `shortuuid.uuid()`: a random UUID4 written in base 57, 22 characters. */
import { randomUUID } from 'node:crypto';

const ALPHABET = '23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const LENGTH = 22;

export function shortUuid(): string {
  let n = BigInt(`0x${randomUUID().replace(/-/g, '')}`);
  const base = BigInt(ALPHABET.length);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % base)] + out;
    n /= base;
  }
  return out.padStart(LENGTH, ALPHABET[0]);
}
