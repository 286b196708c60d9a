/**
 * Notices between tabs (and between clients over the same storage name in one page). They carry plain data only:
 * a type, an expiry and a version, never a token. A tab that hears "refresh" or "login" re-reads the shared
 * storage; it never takes tokens from a message.
 */
import { randomId } from '../lib/random-id.js';
import { unref } from '../lib/runtime.js';
import type { RefreshTrigger } from '../types.js';

/** What one tab tells the others. */
export interface TabNotice {
  type: 'login' | 'refresh' | 'logout' | 'session-end' | 'activity';
  /** Expiry of the new access token (local epoch ms), for `login`/`refresh`. */
  expiresAt?: number;
  /** What started the refresh, for `refresh` (the other tabs' `refresh` events carry it too). */
  trigger?: RefreshTrigger;
  /** Why the session ended, for `session-end`. */
  reason?: string;
  /** Increases with every notice a sender sends; with `from` it identifies a notice. */
  version: number;
  /** A random id of the sending client, so a client ignores its own echo. */
  from: string;
}

/** A notice about the session (the coordinator's); `activity` notices go to the idle timer. */
export type SessionNotice = TabNotice & { type: Exclude<TabNotice['type'], 'activity'> };

/** An open channel. */
export interface TabChannel {
  post(notice: Omit<TabNotice, 'version' | 'from'>): void;
  close(): void;
}

/** Open the channel `authfetch:<name>`, or return `undefined` where BroadcastChannel does not exist. */
export function openTabChannel(name: string, onNotice: (notice: TabNotice) => void): TabChannel | undefined {
  if (typeof BroadcastChannel !== 'function') return undefined;
  const channel = new BroadcastChannel(`authfetch:${name}`);
  const id = randomId();
  let version = 0;
  channel.onmessage = ({ data }: MessageEvent<unknown>) => {
    if (isNotice(data) && data.from !== id) onNotice(data);
  };
  // Node 20 has BroadcastChannel too: an open one keeps the process alive unless unref'd.
  unref(channel);
  return {
    post(notice) {
      try {
        channel.postMessage({ ...notice, version: ++version, from: id });
      } catch {
        // A closed channel (after dispose) or an uncloneable value: tabs just do not hear this one.
      }
    },
    close: () => channel.close(),
  };
}

const TYPES: unknown[] = ['login', 'refresh', 'logout', 'session-end', 'activity'];
const TRIGGERS: unknown[] = [undefined, 'unauthorized', 'expiring', 'manual'];

/** Whether a message is a notice of this shape (anything can be posted on a channel of this name). */
function isNotice(value: unknown): value is TabNotice {
  const v = (value ?? {}) as Record<string, unknown>;
  return TYPES.includes(v.type) && TRIGGERS.includes(v.trigger) && typeof v.version === 'number' && typeof v.from === 'string';
}
