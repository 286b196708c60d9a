/**
 * Attack: what the bundle-size cut (431cd5e..) changed without meaning to. Each case held before the cut.
 */
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthClient, dpop, type AuthClient, type Dpop } from '../../src/index.js';
import { redirectVia, startRecordingServer, type RecordingServer } from '../helpers/recording.js';

let api: RecordingServer;
let other: RecordingServer;
const clients: AuthClient[] = [];

beforeAll(async () => {
  [api, other] = await Promise.all([startRecordingServer('127.0.0.1'), startRecordingServer('127.0.0.2')]);
});
afterAll(async () => {
  for (const auth of clients.splice(0)) auth.dispose();
  await Promise.all([api.close(), other.close()]);
});

/**
 * A `Dpop` the app builds over `dpop()`'s key (here: a wrapper that counts proofs), typed by the public interface.
 * It has every documented member, none of the internal ones.
 */
function wrappedDpop(): Dpop & { proofs: number } {
  const key = dpop({ keyStorage: 'memory' });
  const wrapper = {
    proofs: 0,
    rotateOnLogout: false,
    proof(method: string, url: string, options?: Parameters<Dpop['proof']>[2]) {
      wrapper.proofs += 1;
      return key.proof(method, url, options);
    },
    thumbprint: () => key.thumbprint(),
    keyPair: () => key.keyPair(),
    rememberNonce: (url: string, nonce: string) => key.rememberNonce(url, nonce),
    nonceFor: (url: string) => key.nonceFor(url),
    rotate: () => key.rotate(),
  };
  return wrapper;
}

describe('a Dpop the app wraps (the public interface, without the internal attach/receive)', () => {
  it('is refused when the client is created, not by every request later', () => {
    // After the cut, every response went through `dpop.receive!()` and every DPoP-bound request through
    // `dpop.attach!()`, which such an object lacks: each request, even a Bearer one and one to another origin, rejected
    // with "receive is not a function". Before the cut such an object worked; the steps now live on dpop()'s object
    // only (so that an app without DPoP ships none of them), so the client says so at once.
    const wrapper = wrappedDpop();
    expect(() => createAuthClient({ baseUrl: api.url, retry: 0, dpop: wrapper })).toThrow(/option dpop must come from dpop\(\)/);
    expect(() => createAuthClient({ baseUrl: api.url, retry: 0, dpop: wrapper })).toThrow(TypeError);
    expect(wrapper.proofs).toBe(0);
  });

  it("a spread of dpop()'s object (an app overriding one member) is accepted and keeps the proof on its origin", async () => {
    const key = dpop({ keyStorage: 'memory' });
    const auth = createAuthClient({ baseUrl: api.url, retry: 0, dpop: { ...key, rotateOnLogout: true } });
    clients.push(auth);
    await auth.login({ accessToken: 'dpop-spread-at', tokenType: 'DPoP' });
    expect((await auth.fetch(`${api.url}/spread`)).status).toBe(200);
    expect(api.to('/spread')[0]?.headers.authorization).toBe('DPoP dpop-spread-at');
    expect(decodeJwt(api.to('/spread')[0]?.headers.dpop as string).htu).toBe(`${api.url}/spread`);
    await auth.fetch(redirectVia(api, '/away-spread', `${other.url}/landing-spread`, 307));
    expect(other.to('/landing-spread')[0]?.headers).not.toHaveProperty('dpop');
    expect(other.to('/landing-spread')[0]?.headers).not.toHaveProperty('authorization');
  });
});
