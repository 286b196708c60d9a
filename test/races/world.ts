/**
 * The world a race run plays in: an API and a token endpoint behind a fake `fetch` whose every answer is released by
 * fast-check's scheduler, one token storage shared by two clients (two tabs over IndexedDB, as the contract models
 * them: `shared: true`, each read and write also released by the scheduler), and a BroadcastChannel whose deliveries
 * are scheduled too. With every asynchronous step in the scheduler's hands, a seed replays the same interleaving.
 *
 * The world records what the invariants need (every token sent, by which client and for which request; every
 * storage write; every refresh grant) and checks them in `violations()`.
 */
import type { Scheduler } from 'fast-check';
import type { TokenSet, TokenStorage } from '../../src/index.js';

export const API = 'http://api.test';
export const TOKEN_ENDPOINT = 'http://auth.test/token';

/** What the token endpoint does with one refresh_token grant. */
export type GrantFault = 'ok' | 'reject' | 'transient' | 'hang';

/** The claims of the fake JWTs: who, which sign-in (family) and which link of its refresh chain. */
interface Claims {
  sub: string;
  fam: number;
  n: number;
  iat: number;
  exp: number;
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Read the claims of a token this world issued (undefined for anything else). */
export function claimsOf(token: string | undefined): Claims | undefined {
  if (!token) return undefined;
  const part = token.split('.')[1];
  if (!part) return undefined;
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString()) as Claims;
  } catch {
    return undefined;
  }
}

function abortError(signal: AbortSignal | null | undefined): unknown {
  return signal?.reason ?? new DOMException('This operation was aborted', 'AbortError');
}

/** Per client: what the app has a right to expect after its own login()/logout() calls. */
type Expectation = { kind: 'signed-in'; user: string } | { kind: 'signed-out' } | { kind: 'unknown' };

export class World {
  readonly violations: string[] = [];
  /** One line per step, for the failure report. */
  readonly log: string[] = [];
  readonly expectations: Expectation[] = [{ kind: 'unknown' }, { kind: 'unknown' }];

  #families = 0;
  #jti = 0;
  /** Access tokens the API accepts. */
  #validAccess = new Set<string>();
  /** Refresh token -> its family and link; removed when spent or revoked. */
  #liveRefresh = new Map<string, { fam: number; n: number; sub: string }>();
  #spentRefresh = new Set<string>();
  /** The access token issued together with each refresh token (the pair of one link). */
  #accessOf = new Map<string, string>();
  #rejected = new Set<string>();
  #grantFaults: GrantFault[];
  #grants = 0;
  /** The user of the first token each request was sent with. */
  #requestUser = new Map<string, string>();
  #stored: TokenSet | undefined;
  /** The latest login()/logout() call of the app, on either client: what the storage must end up reflecting. */
  lastCall: { kind: 'login'; fam: number } | { kind: 'logout' } | undefined;
  /** A session ended (refresh rejected) after the last login: the storage may then be empty. */
  endedSinceLastCall = false;

  constructor(
    readonly s: Scheduler,
    grantFaults: GrantFault[],
  ) {
    this.#grantFaults = grantFaults;
  }

  /** Issue a sign-in for `sub` (a new family), as an interactive sign-in would. */
  signIn(sub: string): { access_token: string; refresh_token: string; token_type: string; expires_in: number } {
    const fam = ++this.#families;
    return this.#issue(sub, fam, 0);
  }

  #issue(sub: string, fam: number, n: number) {
    const iat = Math.floor(Date.now() / 1000);
    const claims: Claims = { sub, fam, n, iat, exp: iat + 300 };
    const access = `${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ ...claims, jti: ++this.#jti })}.x`;
    const refresh = `rt-${fam}-${n}-${this.#jti}`;
    this.#validAccess.add(access);
    this.#liveRefresh.set(refresh, { fam, n, sub });
    this.#accessOf.set(refresh, access);
    return { access_token: access, refresh_token: refresh, token_type: 'Bearer', expires_in: 300 };
  }

  /** Every access token issued so far is refused from now on (as if it had expired). */
  expireAll(): void {
    this.#validAccess.clear();
    this.log.push('server: every access token expires');
  }

  /** The underlying fetch of client `client`. */
  fetchFor(client: number): typeof fetch {
    return (input, init) => {
      const request = input instanceof Request ? input : undefined;
      const url = request ? request.url : String(input);
      const headers = new Headers(init?.headers ?? request?.headers);
      const signal = init?.signal ?? request?.signal;
      if (signal?.aborted) return Promise.reject(abortError(signal));
      if (url.startsWith(TOKEN_ENDPOINT)) return this.#token(client, init?.body ?? null, signal);
      return this.#api(client, url, headers, signal);
    };
  }

  /** Release `answer` when the scheduler says so, unless the caller aborts first. */
  #deliver(label: string, signal: AbortSignal | null | undefined, answer: () => Response): Promise<Response> {
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.s.schedule(Promise.resolve(), label).then(() => {
        signal?.removeEventListener('abort', onAbort);
        // The server acts only on a request whose client still waits: a spent refresh token is never lost in transit.
        if (signal?.aborted) return;
        try {
          resolve(answer());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  #api(client: number, url: string, headers: Headers, signal: AbortSignal | null | undefined): Promise<Response> {
    const authorization = headers.get('authorization') ?? undefined;
    const token = authorization?.replace(/^Bearer /, '');
    const requestId = headers.get('x-request') ?? '?';
    const claims = claimsOf(token);
    this.log.push(`client ${client}: ${requestId} sent ${claims ? `${claims.sub}/${claims.fam}.${claims.n}` : 'no token'}`);
    this.#checkSend(client, requestId, claims);
    return this.#deliver(`api ${requestId}`, signal, () => {
      if (token && this.#validAccess.has(token)) {
        return Response.json({ sub: claims?.sub });
      }
      if (token) this.#rejected.add(token);
      return new Response('{}', {
        status: 401,
        headers: { 'www-authenticate': 'Bearer error="invalid_token"', 'content-type': 'application/json' },
      });
    });
  }

  /** `getAccessToken()` hands out tokens under the same rules as the client sends them. */
  checkHandedOut(client: number, id: string, token: string | undefined): void {
    const claims = claimsOf(token);
    this.log.push(`client ${client}: ${id} getAccessToken() gave ${claims ? `${claims.sub}/${claims.fam}.${claims.n}` : 'nothing'}`);
    const expected = this.expectations[client] as Expectation;
    if (claims && expected.kind === 'signed-out') this.violations.push(`client ${client}: getAccessToken() gave a token after logout() (${id})`);
    if (claims && expected.kind === 'signed-in' && claims.sub !== expected.user) {
      this.violations.push(`client ${client}: getAccessToken() gave ${claims.sub}'s token after login(${expected.user}) (${id})`);
    }
  }

  /** Invariants about what a client sends, checked at the moment it sends. */
  #checkSend(client: number, requestId: string, claims: Claims | undefined): void {
    const expected = this.expectations[client] as Expectation;
    if (claims && expected.kind === 'signed-out') {
      this.violations.push(`client ${client} sent a token of ${claims.sub} after its logout() (${requestId})`);
    }
    if (claims && expected.kind === 'signed-in' && claims.sub !== expected.user) {
      this.violations.push(`client ${client} sent ${claims.sub}'s token after login(${expected.user}) (${requestId})`);
    }
    if (claims) {
      const first = this.#requestUser.get(requestId);
      if (first === undefined) this.#requestUser.set(requestId, claims.sub);
      else if (first !== claims.sub) this.violations.push(`${requestId} went out with ${first}'s token, then with ${claims.sub}'s`);
    }
  }

  #token(client: number, body: BodyInit | null, signal: AbortSignal | null | undefined): Promise<Response> {
    const params = new URLSearchParams(typeof body === 'string' ? body : body instanceof URLSearchParams ? body.toString() : '');
    const refresh = params.get('refresh_token') ?? '';
    const fault = this.#grantFaults[this.#grants++ % Math.max(1, this.#grantFaults.length)] ?? 'ok';
    this.log.push(`client ${client}: refresh grant with ${refresh} (${fault})`);
    if ((this.expectations[client] as Expectation).kind === 'signed-out') {
      this.violations.push(`client ${client} sent a refresh token after its logout()`);
    }
    if (fault === 'hang') {
      return new Promise((_, reject) => signal?.addEventListener('abort', () => reject(abortError(signal)), { once: true }));
    }
    return this.#deliver(`grant ${refresh} ${fault}`, signal, () => {
      if (fault === 'transient') return Response.json({ error: 'temporarily_unavailable' }, { status: 503 });
      if (this.#spentRefresh.has(refresh)) {
        this.violations.push(`the rotated refresh token ${refresh} was sent twice`);
        return Response.json({ error: 'invalid_grant' }, { status: 400 });
      }
      const live = this.#liveRefresh.get(refresh);
      if (fault === 'reject' || !live) return Response.json({ error: 'invalid_grant' }, { status: 400 });
      // One refresh per rejected token: this link's access token must have met a 401 first.
      const access = this.#accessOf.get(refresh);
      if (access === undefined || !this.#rejected.has(access)) {
        this.violations.push(`refresh token ${refresh} was spent although its access token was never rejected`);
      }
      this.#liveRefresh.delete(refresh);
      this.#spentRefresh.add(refresh);
      return Response.json(this.#issue(live.sub, live.fam, live.n + 1));
    });
  }

  /** The shared token storage: two tabs over one IndexedDB database, each step released by the scheduler. */
  storage(name: string): TokenStorage {
    const step = <T>(label: string, work: () => T): Promise<T> => this.s.schedule(Promise.resolve(), label).then(work);
    return {
      name,
      shared: true,
      get: () => step('storage get', () => (this.#stored ? { ...this.#stored } : undefined)),
      set: (tokens) =>
        step('storage set', () => {
          this.#checkWrite(tokens);
          this.#stored = { ...tokens };
        }),
      clear: () =>
        step('storage clear', () => {
          this.log.push('storage: cleared');
          this.#stored = undefined;
        }),
    };
  }

  /** A refreshed token may only replace its own family's token: never land on a clear or on another sign-in. */
  #checkWrite(tokens: TokenSet): void {
    const claims = claimsOf(tokens.accessToken);
    this.log.push(`storage: set ${claims ? `${claims.sub}/${claims.fam}.${claims.n}` : '?'}`);
    if (!claims || claims.n === 0) return; // a sign-in's own tokens
    const current = claimsOf(this.#stored?.accessToken);
    if (current?.fam !== claims.fam) {
      this.violations.push(
        `storage: a refresh of sign-in ${claims.fam} landed on ${current ? `sign-in ${current.fam}` : 'a cleared storage'}`,
      );
    }
  }

  /** After the run: the storage reflects the app's last login()/logout() call. */
  checkFinalStorage(): void {
    const stored = claimsOf(this.#stored?.accessToken);
    const last = this.lastCall;
    if (last?.kind === 'logout' && stored) this.violations.push(`storage holds sign-in ${stored.fam} after the last call, logout()`);
    if (last?.kind === 'login' && stored && stored.fam !== last.fam) {
      this.violations.push(`storage holds sign-in ${stored.fam}, not the last login's ${last.fam}`);
    }
    if (last?.kind === 'login' && !stored && !this.endedSinceLastCall) {
      this.violations.push(`storage is empty although login(${last.fam}) was the last call and no session ended`);
    }
  }
}

/**
 * A BroadcastChannel for this process whose deliveries the scheduler releases, in any order relative to everything
 * else (as between real tabs, where a notice is not ordered against storage or the network).
 */
export function scheduledBroadcastChannel(s: () => Scheduler): typeof BroadcastChannel {
  const channels = new Map<string, Set<ScheduledChannel>>();
  class ScheduledChannel {
    onmessage: ((event: MessageEvent) => void) | null = null;
    #closed = false;
    constructor(readonly name: string) {
      let peers = channels.get(name);
      if (!peers) channels.set(name, (peers = new Set()));
      peers.add(this);
    }
    postMessage(data: unknown): void {
      if (this.#closed) throw new DOMException('closed', 'InvalidStateError');
      const copy: unknown = structuredClone(data);
      for (const peer of channels.get(this.name) ?? []) {
        if (peer === this) continue;
        s()
          .schedule(Promise.resolve(), `notice ${(copy as { type?: string }).type ?? ''}`)
          .then(() => {
            if (!peer.#closed) peer.onmessage?.({ data: copy } as MessageEvent);
          });
      }
    }
    close(): void {
      this.#closed = true;
      channels.get(this.name)?.delete(this);
    }
    unref(): void {}
  }
  return ScheduledChannel as unknown as typeof BroadcastChannel;
}
