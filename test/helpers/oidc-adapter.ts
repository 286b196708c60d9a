/**
 * An in-memory storage adapter for oidc-provider, one store per harness.
 *
 * oidc-provider's own development adapter keeps each provider's data in an LRU capped at 1000 entries,
 * so a stress test (hundreds of refreshes, each writing an access token, a refresh token and DPoP replay
 * records) could silently evict a live grant or session and turn into a flaky `invalid_grant`. This one
 * never evicts: entries go when they expire (plus the provider's clock tolerance, as the stock adapter
 * does, so the model itself reports "expired" rather than "not found") or when the harness closes.
 *
 * It implements the adapter interface oidc-provider documents: upsert, find, findByUid, findByUserCode,
 * consume, destroy, revokeByGrantId (per model: the provider calls it on each grantable model when it
 * revokes a grant, e.g. on reuse of a rotated refresh token).
 */

interface Entry {
  payload: Record<string, unknown>;
  expiresAt: number; // epoch ms; Infinity when the model has no expiry
}

export interface MemoryStore {
  entries: Map<string, Entry>;
  /** grantId -> keys (`Model:id`) of the artefacts issued under that grant */
  grants: Map<string, Set<string>>;
  /** Session uid -> Session id */
  sessionUids: Map<string, string>;
  /** device flow user code -> DeviceCode id */
  userCodes: Map<string, string>;
  clear(): void;
}

export function createMemoryStore(): MemoryStore {
  const store: MemoryStore = {
    entries: new Map(),
    grants: new Map(),
    sessionUids: new Map(),
    userCodes: new Map(),
    clear() {
      store.entries.clear();
      store.grants.clear();
      store.sessionUids.clear();
      store.userCodes.clear();
    },
  };
  return store;
}

/** The factory oidc-provider's `adapter` option accepts: called once per model name. */
export function memoryAdapterFactory(store: MemoryStore, clockToleranceSeconds: number) {
  return (model: string) => new MemoryAdapter(model, store, clockToleranceSeconds);
}

class MemoryAdapter {
  constructor(
    private readonly model: string,
    private readonly store: MemoryStore,
    private readonly clockTolerance: number,
  ) {}

  private key(id: string): string {
    return `${this.model}:${id}`;
  }

  private get(key: string): Record<string, unknown> | undefined {
    const entry = this.store.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.store.entries.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  async upsert(id: string, payload: Record<string, unknown>, expiresIn?: number): Promise<void> {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + (expiresIn + this.clockTolerance) * 1000 : Infinity;
    this.store.entries.set(key, { payload, expiresAt });
    if (this.model === 'Session' && typeof payload.uid === 'string') {
      this.store.sessionUids.set(payload.uid, id);
    }
    if (typeof payload.userCode === 'string') {
      this.store.userCodes.set(payload.userCode, id);
    }
    if (typeof payload.grantId === 'string') {
      let members = this.store.grants.get(payload.grantId);
      if (!members) this.store.grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
  }

  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return this.get(this.key(id));
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    const id = this.store.sessionUids.get(uid);
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode(userCode: string): Promise<Record<string, unknown> | undefined> {
    const id = this.store.userCodes.get(userCode);
    return id === undefined ? undefined : this.find(id);
  }

  async consume(id: string): Promise<void> {
    const payload = this.get(this.key(id));
    if (payload) payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    this.remove(this.key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    const members = this.store.grants.get(grantId);
    if (!members) return;
    for (const key of [...members]) {
      if (key.startsWith(`${this.model}:`)) this.remove(key);
    }
  }

  private remove(key: string): void {
    const entry = this.store.entries.get(key);
    this.store.entries.delete(key);
    if (!entry) return;
    const { payload } = entry;
    if (typeof payload.uid === 'string' && this.model === 'Session') this.store.sessionUids.delete(payload.uid);
    if (typeof payload.userCode === 'string') this.store.userCodes.delete(payload.userCode);
    if (typeof payload.grantId === 'string') {
      const members = this.store.grants.get(payload.grantId);
      members?.delete(key);
      if (members && members.size === 0) this.store.grants.delete(payload.grantId);
    }
  }
}
