/**
 * bench:storm — a refresh storm: many requests meet a stale token at once (DESIGN, behaviour 1: single flight).
 *
 * Against the example server with opaque access tokens and a token endpoint that takes 50 ms to refresh:
 *
 * 1. Burst: 1000 concurrent GETs of /api/me after `expireAll()`, through `auth.http` and through `auth.fetch`.
 *    Targets: exactly 1 refresh call, 1000 successes, and wall time <= 1.2x its floor, where
 *    floor = 2 x (the same burst of 1000 with a valid token, measured alongside in the same run) + 50 ms:
 *    every request has to go out twice (once stale, once replayed) and the refresh has to happen in between.
 * 2. Staggered: 100 GETs started 2 ms apart after `expireAll()`. The first goes out stale, gets 401 and starts the
 *    refresh; requests that start while that refresh is in flight must wait for it instead of going out with the
 *    stale token. Only the requests already sent before the first 401 came back get 401 too (and are replayed).
 *    Target: API hits = 100 + (requests started before the first 401 came back), 1 refresh, 100 successes.
 *
 * Each round runs its variants side by side (valid burst and storm alternating, ABBA), several rounds, medians.
 * Run: `npm run bench:storm` (builds dist/ first). Traffic goes to 127.0.0.1 only. Budget: about 30 s on 2 cores.
 */
import { createAuthClient, oauth2Refresh, type AuthClient } from '../dist/index.js';
import { CLIENT_ID, startExampleServer } from '../examples/server/index.mjs';
import { Deadline, finish, interleave, median, ms, printTable, times, timed, verdict, within } from './lib.js';

const BURST = 1000;
const BURST_ROUNDS = 4; // per surface; each round: one valid burst and one storm
const REFRESH_DELAY_MS = 50;
const STAGGER_COUNT = 100;
const STAGGER_MS = 2;
const STAGGER_ROUNDS = 5; // per surface
const BURST_TARGET = 1.2;
const deadline = new Deadline(90_000, 'bench:storm');

type Surface = 'auth.http' | 'auth.fetch';

/** What the underlying fetch saw of the API calls (the bench's own instrumentation, below the auth path). */
interface Wire {
  /** The access token that expireAll() made stale; requests carrying it are "stale sends". */
  staleToken: string | undefined;
  staleSends: number;
  /** Set when the first 401 from the API has come back to the client. */
  first401: boolean;
  /** Stale sends that happened after the first 401 had come back: the refresh was in flight, they should have waited. */
  staleSendsAfterFirst401: number;
}

function authorizationOf(input: RequestInfo | URL, init: RequestInit | undefined): string | null {
  const fromInit = init?.headers === undefined ? null : new Headers(init.headers).get('authorization');
  return fromInit ?? (input instanceof Request ? input.headers.get('authorization') : null);
}

function urlOf(input: RequestInfo | URL): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}

async function main(): Promise<void> {
  const server = await startExampleServer({ opaqueTokens: true, refreshDelayMs: REFRESH_DELAY_MS });
  const wire: Wire = { staleToken: undefined, staleSends: 0, first401: false, staleSendsAfterFirst401: 0 };

  // The underlying fetch, counting what goes over the wire to /api/*. It only observes; the auth path is unchanged.
  const observed: typeof fetch = async (input, init) => {
    const url = urlOf(input);
    if (!url.includes('/api/')) return fetch(input, init);
    if (wire.staleToken !== undefined && authorizationOf(input, init) === `Bearer ${wire.staleToken}`) {
      wire.staleSends++;
      if (wire.first401) wire.staleSendsAfterFirst401++;
    }
    const response = await fetch(input, init);
    if (response.status === 401) wire.first401 = true;
    return response;
  };

  const auth: AuthClient = createAuthClient({
    baseUrl: server.url,
    fetch: observed,
    refresh: oauth2Refresh({ tokenEndpoint: `${server.url}/oauth/token`, clientId: CLIENT_ID }),
  });
  let refreshed = false;
  auth.on('refresh', () => {
    refreshed = true;
  });
  await auth.login(await server.issueTokens());

  /** One GET of /api/me through a surface; resolves true when it succeeded with the expected body. */
  const get: Record<Surface, () => Promise<boolean>> = {
    'auth.http': async () => {
      try {
        const body = await auth.http.get('api/me').json<{ sub?: string }>();
        return body.sub === 'alice';
      } catch {
        return false;
      }
    },
    'auth.fetch': async () => {
      try {
        const response = await auth.fetch('api/me');
        if (!response.ok) {
          await response.body?.cancel();
          return false;
        }
        return ((await response.json()) as { sub?: string }).sub === 'alice';
      } catch {
        return false;
      }
    },
  };

  /** Make the current access token stale on the server, and remember it to recognise stale sends. */
  async function expire(): Promise<void> {
    wire.staleToken = await auth.getAccessToken();
    wire.staleSends = 0;
    wire.first401 = false;
    wire.staleSendsAfterFirst401 = 0;
    refreshed = false;
    server.expireAll();
    server.resetStats();
  }

  interface BurstResult {
    ms: number;
    ok: number;
    refreshCalls: number;
    apiHits: number;
  }
  async function burst(surface: Surface, stale: boolean): Promise<BurstResult> {
    deadline.check(`${surface} burst`);
    if (stale) await expire();
    else server.resetStats();
    let ok = 0;
    const wall = await timed(() =>
      within(
        Promise.all(Array.from({ length: BURST }, () => get[surface]().then((good) => void (good && ok++)))),
        30_000,
        `${surface} burst of ${BURST}`,
      ),
    );
    return { ms: wall, ok, refreshCalls: server.stats.refreshCalls, apiHits: server.stats.apiHits };
  }

  console.log(`bench:storm: example server at ${server.url}, opaque tokens, refresh takes ${REFRESH_DELAY_MS} ms`);
  console.log('');
  console.log(`1. Burst: ${BURST} concurrent GETs /api/me with a stale token; floor = 2 x (same burst, valid token) + ${REFRESH_DELAY_MS} ms`);

  // Warm up: open the connections (the first burst opens up to 1000 sockets) and the JIT, once per surface.
  for (const surface of ['auth.http', 'auth.fetch'] as const) {
    await burst(surface, false);
    await burst(surface, true);
  }

  const burstRows: string[][] = [['surface', 'valid burst', 'storm', 'floor', 'storm/floor', 'refresh calls', 'successes', 'API hits']];
  const burstChecks: { surface: Surface; ratio: number; refreshCalls: number[]; ok: number[]; validOk: number[] }[] = [];
  for (const surface of ['auth.http', 'auth.fetch'] as const) {
    const results: Record<'valid' | 'storm', BurstResult[]> = { valid: [], storm: [] };
    await interleave(
      {
        valid: async () => {
          const r = await burst(surface, false);
          results.valid.push(r);
          return r.ms;
        },
        storm: async () => {
          const r = await burst(surface, true);
          results.storm.push(r);
          return r.ms;
        },
      },
      { rounds: BURST_ROUNDS, deadline, minRounds: 3 },
    );
    const rounds = Math.min(results.valid.length, results.storm.length);
    const perRound = Array.from({ length: rounds }, (_, i) => {
      const valid = (results.valid[i] as BurstResult).ms;
      const storm = (results.storm[i] as BurstResult).ms;
      return { valid, storm, floor: 2 * valid + REFRESH_DELAY_MS, ratio: storm / (2 * valid + REFRESH_DELAY_MS) };
    });
    const ratio = median(perRound.map((r) => r.ratio));
    const refreshCalls = results.storm.map((r) => r.refreshCalls);
    const ok = results.storm.map((r) => r.ok);
    burstRows.push([
      surface,
      ms(median(perRound.map((r) => r.valid))),
      ms(median(perRound.map((r) => r.storm))),
      ms(median(perRound.map((r) => r.floor))),
      times(ratio),
      refreshCalls.join(' '),
      ok.join(' '),
      results.storm.map((r) => r.apiHits).join(' '),
    ]);
    burstChecks.push({ surface, ratio, refreshCalls, ok, validOk: results.valid.map((r) => r.ok) });
  }
  printTable(burstRows);
  console.log(`  (times are medians over rounds; refresh calls, successes and API hits are per storm round; at most ${2 * BURST} hits:`);
  console.log('   requests whose auth path starts after the first 401 came back wait for the refresh and go out once)');
  for (const c of burstChecks) {
    verdict(`${c.surface} storm: one refresh`, c.refreshCalls.every((n) => n === 1), `refresh calls per round: ${c.refreshCalls.join(', ')} (must be 1)`);
    verdict(
      `${c.surface} storm: all succeed`,
      c.ok.every((n) => n === BURST) && c.validOk.every((n) => n === BURST),
      `successes per storm round: ${c.ok.join(', ')} (must be ${BURST}); valid bursts: ${c.validOk.join(', ')}`,
    );
    verdict(`${c.surface} storm: wall time`, c.ratio <= BURST_TARGET, `${times(c.ratio)} of the floor (target <= ${BURST_TARGET}x)`);
  }

  console.log('');
  console.log(`2. Staggered storm: ${STAGGER_COUNT} GETs started ${STAGGER_MS} ms apart with a stale token (refresh takes ${REFRESH_DELAY_MS} ms)`);
  const staggerRows: string[][] = [
    ['surface', 'round', 'API hits', 'expected', 'sent stale', 'before 1st 401', 'waited', 'stale after 401', 'refresh calls', 'successes', 'wall'],
  ];
  let staggerPass = true;
  const naive: number[] = [];
  for (let round = 0; round < STAGGER_ROUNDS; round++) {
    const order: Surface[] = round % 2 === 0 ? ['auth.http', 'auth.fetch'] : ['auth.fetch', 'auth.http'];
    for (const surface of order) {
      if (round >= 2 && deadline.expired) break;
      deadline.check(`${surface} staggered storm`);
      await expire();
      let beforeFirst401 = 0;
      let waited = 0;
      let ok = 0;
      const pending: Promise<void>[] = [];
      const start = performance.now();
      const wall = await timed(async () => {
        for (let i = 0; i < STAGGER_COUNT; i++) {
          // Start on a schedule relative to the first request, so a late timer does not push every later one back.
          const wait = start + i * STAGGER_MS - performance.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          if (!wire.first401) beforeFirst401++;
          else if (!refreshed) waited++;
          pending.push(get[surface]().then((good) => void (good && ok++)));
        }
        await within(Promise.all(pending), 30_000, `${surface} staggered storm`);
      });
      const hits = server.stats.apiHits;
      const expected = STAGGER_COUNT + beforeFirst401;
      const good = hits === expected && server.stats.refreshCalls === 1 && ok === STAGGER_COUNT && wire.staleSendsAfterFirst401 === 0;
      staggerPass &&= good;
      naive.push(STAGGER_COUNT + beforeFirst401 + waited);
      staggerRows.push([
        surface,
        String(round + 1),
        String(hits),
        String(expected),
        String(wire.staleSends),
        String(beforeFirst401),
        String(waited),
        String(wire.staleSendsAfterFirst401),
        String(server.stats.refreshCalls),
        String(ok),
        ms(wall, 0),
      ]);
    }
  }
  printTable(staggerRows);
  console.log('  How to read it: "before 1st 401" requests were already on the wire with the stale token when the first');
  console.log('  401 came back; each gets its own 401 and one replay, so API hits = 100 + that count ("expected").');
  console.log('  "waited" requests started while the refresh was in flight and went out once, with the new token;');
  console.log(`  without single flight they would also have gone out stale: about ${median(naive)} hits (100 + before + waited).`);
  verdict(
    'staggered storm: requests wait for the refresh in flight',
    staggerPass,
    `API hits = 100 + requests sent before the first 401 in every round (median ${median(staggerRows.slice(1).map((r) => Number(r[2])))}, ` +
      `~${STAGGER_COUNT + 1} expected, not ~${median(naive)}), 1 refresh, ${STAGGER_COUNT} successes, no stale send after the first 401`,
  );

  auth.dispose();
  await server.close();
  finish('bench:storm');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
