/**
 * Arena sessions: on first contact the gateway sets an HttpOnly, SameSite=Lax cookie `fleetchat_session` holding a
 * random id (144 bits) and its HMAC-SHA-256 under a key derived from the deployment secret, so any replica can
 * verify it and nobody can forge one. Browsers and cookie-keeping clients need nothing else. The store never sees
 * the id itself, only a keyed digest of it (`key`), which is what conversations and battles are bound to.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'fleetchat_session';
const ID_BYTES = 18;
const MAX_AGE_S = 365 * 24 * 3600;

export interface ArenaSession {
  /** What the store records as the owner (a digest; the cookie's id never leaves the gateway). */
  key: string;
  /** True when this request got a new cookie. */
  created: boolean;
}

/** The value of one cookie in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) return part.slice(i + 1).trim();
  }
  return undefined;
}

export class SessionCookies {
  private readonly signKey: Buffer;
  private readonly digestKey: Buffer;
  private readonly sessions = new WeakMap<FastifyRequest, ArenaSession>();

  constructor(secret: string) {
    this.signKey = createHmac('sha256', secret).update('fleetchat arena session cookie v1').digest();
    this.digestKey = createHmac('sha256', secret).update('fleetchat arena session owner v1').digest();
  }

  /** `id.signature` for a new random session. */
  issue(): string {
    const id = randomBytes(ID_BYTES).toString('base64url');
    return `${id}.${this.sign(id)}`;
  }

  /** The session id of a cookie value, when its signature is right. */
  verify(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    const dot = value.indexOf('.');
    if (dot <= 0) return undefined;
    const id = value.slice(0, dot);
    const given = Buffer.from(value.slice(dot + 1));
    const expected = Buffer.from(this.sign(id));
    return given.length === expected.length && timingSafeEqual(given, expected) ? id : undefined;
  }

  ownerKey(id: string): string {
    return `s_${createHmac('sha256', this.digestKey).update(id).digest('base64url').slice(0, 32)}`;
  }

  /** The request's session; sets the cookie on the reply when the request had none (or a forged one). */
  resolve(request: FastifyRequest, reply: FastifyReply): ArenaSession {
    const known = this.sessions.get(request);
    if (known) return known;
    let id = this.verify(readCookie(request.headers.cookie, SESSION_COOKIE));
    let created = false;
    if (id === undefined) {
      const value = this.issue();
      id = value.slice(0, value.indexOf('.'));
      const secure = request.protocol === 'https' ? '; Secure' : '';
      // On the raw response, so streamed (hijacked) answers carry it too.
      reply.raw.setHeader('set-cookie', `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${MAX_AGE_S}${secure}`);
      created = true;
    }
    const session = { key: this.ownerKey(id), created };
    this.sessions.set(request, session);
    return session;
  }

  private sign(id: string): string {
    return createHmac('sha256', this.signKey).update(id).digest('base64url');
  }
}
