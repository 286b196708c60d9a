/**
 * Sign-in transactions: what a sign-in must remember between the authorization request and the response (the PKCE
 * `code_verifier`, RFC 7636; `state`, RFC 6749 section 10.12; `nonce`, OIDC Core 3.1.2.1; the app's own state).
 *
 * A redirect sign-in leaves the page, so its transaction is kept in `localStorage`, keyed by `state`. It is claimed
 * once, under a lock shared by the tabs: a callback URL open in two tabs (a duplicated tab, a reload during the
 * exchange) is exchanged by one of them only, since an authorization code is single-use (RFC 6749 section 4.1.2) and
 * a second exchange would make the provider revoke what the first obtained. The claimed entry is replaced by a small
 * "consumed" marker, so the other tab knows the response was handled rather than forged. `localStorage` reaches other
 * tabs' processes late (Chromium sends writes between renderers asynchronously), so the claim is also a shared Web
 * Lock held for the page's life, `<key>:claimed`: the browser answers `navigator.locks.query()` for all tabs at once.
 * A popup sign-in keeps its transaction in this page's memory: the popup hands the response back to this page,
 * which alone holds the verifier.
 */
import type { TabLock } from '../lib/lock.js';
import { webLocks } from '../lib/runtime.js';

/** One sign-in in progress. */
export interface SignInTransaction {
  state: string;
  codeVerifier: string;
  nonce: string;
  redirectUri: string;
  /** The app's `state`, handed back by `handleRedirect()`. */
  appState?: string;
  /** The `max_age` sent, so `auth_time` is checked against it (OIDC Core 3.1.3.7 step 11). */
  maxAge?: number;
  /** Epoch ms; transactions older than {@link TRANSACTION_TTL_MS} are dropped. */
  createdAt: number;
}

/** What claiming a `state` found. */
export type ClaimResult =
  | { status: 'claimed'; transaction: SignInTransaction }
  | { status: 'consumed'; appState?: string }
  | { status: 'unknown' };

interface ConsumedMarker {
  consumed: true;
  appState?: string;
  createdAt: number;
}

/** How long a started sign-in (or the marker of a finished one) is kept: a user who takes longer starts again. */
export const TRANSACTION_TTL_MS = 15 * 60_000;

/** Transactions kept in memory: popup sign-ins, and redirect sign-ins where `localStorage` is unusable. */
const inMemory = new Map<string, SignInTransaction | ConsumedMarker>();

function localStore(): Storage | undefined {
  try {
    const storage = (globalThis as { localStorage?: Storage }).localStorage;
    // Reading a property throws in some sandboxed frames; probe once per use.
    return storage && typeof storage.getItem === 'function' ? storage : undefined;
  } catch {
    return undefined;
  }
}

function isTransaction(value: unknown): value is SignInTransaction {
  // Stored by this module; a value of another shape (another version, a hand edit) is no transaction.
  const v = value as Partial<SignInTransaction> | undefined;
  return typeof v?.codeVerifier === 'string' && typeof v.nonce === 'string' && typeof v.redirectUri === 'string' && typeof v.createdAt === 'number';
}

function isMarker(value: unknown): value is ConsumedMarker {
  return typeof value === 'object' && value !== null && (value as { consumed?: unknown }).consumed === true;
}

/** The transactions of one storage name. */
export class TransactionStore {
  readonly #prefix: string;

  /**
   * @param lockName `authfetch:<name>:signin`, the lock that claims are made under; the entries in `localStorage`
   *   are `authfetch:<name>:signin:<state>`
   */
  constructor(
    private readonly lockName: string,
    private readonly lock: TabLock,
  ) {
    this.#prefix = `${lockName}:`;
  }

  /** Remember a redirect sign-in (in `localStorage`, else memory) or, with `inMemoryOnly`, a popup sign-in. */
  save(transaction: SignInTransaction, inMemoryOnly: boolean): void {
    this.#prune();
    const key = this.#prefix + transaction.state;
    const storage = inMemoryOnly ? undefined : localStore();
    try {
      if (storage) {
        storage.setItem(key, JSON.stringify(transaction));
        return;
      }
    } catch {
      // Quota or a blocked storage: memory still works for a popup, and for a redirect in this tab's lifetime.
    }
    inMemory.set(key, transaction);
  }

  /** Forget a transaction that will never complete (a popup closed or blocked). */
  discard(state: string): void {
    const key = this.#prefix + state;
    inMemory.delete(key);
    try {
      localStore()?.removeItem(key);
    } catch {
      // nothing stored there
    }
  }

  /** Claim a transaction for the one exchange of its code; see the module comment. */
  claim(state: string): Promise<ClaimResult> {
    const key = this.#prefix + state;
    return this.lock.run(this.lockName, async () => {
      const storage = localStore();
      // A popup's transaction (or a redirect's where localStorage failed) is in memory; the TTL applies to stored ones.
      const fromMemory = inMemory.has(key);
      const entry: unknown = fromMemory ? inMemory.get(key) : parse(storage?.getItem(key));
      if (isMarker(entry)) return { status: 'consumed', appState: entry.appState };
      if (!isTransaction(entry) || (!fromMemory && Date.now() - entry.createdAt > TRANSACTION_TTL_MS)) return { status: 'unknown' };
      // Claimed a moment ago in another tab whose marker has not reached this one's localStorage yet.
      if (!fromMemory && (await claimedElsewhere(key))) return { status: 'consumed', appState: entry.appState };
      const marker: ConsumedMarker = { consumed: true, appState: entry.appState, createdAt: Date.now() };
      if (fromMemory) {
        inMemory.set(key, marker);
      } else {
        try {
          storage?.setItem(key, JSON.stringify(marker));
        } catch {
          storage?.removeItem(key);
        }
      }
      if (!fromMemory) holdClaim(key);
      return { status: 'claimed', transaction: entry };
    });
  }

  /** Drop what is older than the TTL, so abandoned sign-ins do not pile up in `localStorage`. */
  #prune(): void {
    const now = Date.now();
    const expired = (value: { createdAt?: unknown } | null | undefined) => !(now - Number(value?.createdAt) <= TRANSACTION_TTL_MS);
    for (const [key, value] of inMemory) if (expired(value)) inMemory.delete(key);
    try {
      const storage = localStore();
      for (let i = storage ? storage.length - 1 : -1; i >= 0; i--) {
        const key = storage?.key(i);
        if (key?.startsWith(this.#prefix) && expired(parse(storage?.getItem(key)))) storage?.removeItem(key);
      }
    } catch {
      // A storage that fails here fails for save too, which falls back to memory.
    }
  }
}

/** Whether a tab of this origin holds the claim of `key` (see the module comment); no Web Locks, no answer. */
async function claimedElsewhere(key: string): Promise<boolean> {
  try {
    return (await webLocks()?.query())?.held?.some((lock) => lock.name === `${key}:claimed`) ?? false;
  } catch {
    return false;
  }
}

/** Hold the claim of `key` for this page's life; requested before the claim's own lock is released. */
function holdClaim(key: string): void {
  try {
    webLocks()?.request(`${key}:claimed`, { mode: 'shared' }, () => new Promise<void>(() => undefined)).catch(() => undefined);
  } catch {
    // no Web Locks here: the localStorage marker is all there is
  }
}

function parse(raw: string | null | undefined): { createdAt?: unknown } | undefined {
  try {
    return raw ? (JSON.parse(raw) as { createdAt?: unknown }) : undefined;
  } catch {
    return undefined;
  }
}
