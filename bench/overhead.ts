/**
 * bench:overhead — what the auth path costs per request when nothing goes wrong (a valid token, 200s).
 *
 * Variants, each sending the same GET with the same `Authorization: Bearer` header and reading the JSON body:
 *   raw fetch            globalThis.fetch, header set by hand                       baseline of auth.fetch
 *   auth.fetch           the auth path                                     target: <= 1.05x raw fetch
 *   raw fetch + timeout  raw fetch with the per-attempt timeout the auth path applies (an AbortController and a
 *                        timer, cleared when the headers arrive): not a target; it shows what the timeout alone costs
 *   bare ky              ky, header by hand, retry and timeout as auth.http has them  baseline of auth.http
 *   auth.http            ky over the auth path, wrapped by src/http.ts      target: <= 1.05x bare ky
 * 5000 requests per variant and mode: sequential, and 50 in flight.
 *
 * Interleaving. This machine is shared (2 cores, other jobs): chunks of 250-500 requests per variant gave
 * per-round ratios anywhere from 0.5x to 3x and medians that moved by +-10% between runs. So the variants alternate
 * as finely as the mode allows: sequentially, request by request (A B C D E, E D C B A, ...), each request timed on
 * its own; 50 in flight, wave by wave (50 concurrent requests of one variant, awaited, then the next variant's wave),
 * each wave timed. A burst from a neighbour then hits a few samples of every variant alike, and medians drop it.
 * The ratio of the medians is the verdict; the ratio of the 25th percentiles is printed as a cross-check.
 *
 * Server. A bare `node:http` server answering 200 `{"ok":true}` (with the usual `Date` header, which the auth path
 * reads), in a child process: no token check, no routing, so its fixed cost per request, which dilutes every ratio,
 * is as small as it gets, and it does not take turns with the client on the client's event loop. The measured time
 * is dominated by the client side, which is what the targets are about; it is the strict choice. (The example
 * server's /public/ping runs its router, stats and CORS on the same event loop as the client, in this process,
 * which would hide client overhead behind server time.)
 *
 * Run: `npm run bench:overhead` (builds dist/ first). Traffic to 127.0.0.1 only. Budget: about 30 s on 2 cores.
 */
import { spawn } from 'node:child_process';
import ky from 'ky';
import { createAuthClient } from '../dist/index.js';
import { Deadline, finish, interleave, quantile, printTable, times, timed, verdict, within } from './lib.js';

const REQUESTS = 5000; // per variant and mode
const WAVE = 50; // requests in flight in the concurrent mode
const TARGET = 1.05;
const TOKEN = 'bench-access-token';
const deadline = new Deadline(100_000, 'bench:overhead');

/**
 * The minimal server, run as `node -e` in a child process: it prints its port, and exits when its stdin closes (so
 * it never outlives the benchmark, even when the benchmark is killed).
 */
const SERVER_SOURCE = `
const http = require('node:http');
const body = Buffer.from('{"ok":true}');
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

async function startServer(): Promise<{ url: string; stop: () => void }> {
  const child = spawn(process.execPath, ['-e', SERVER_SOURCE], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await within(
    new Promise<number>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`the server exited early (${code})`)));
    }),
    10_000,
    'starting the server process',
  );
  return {
    url: `http://127.0.0.1:${port}`,
    stop: () => {
      child.stdin.end();
      child.kill();
    },
  };
}

async function main(): Promise<void> {
  const server = await startServer();
  const url = `${server.url}/ping`;
  const authorization = `Bearer ${TOKEN}`;

  const auth = createAuthClient({ baseUrl: server.url });
  // A raw OAuth token response, as after a sign-in: the token is valid for an hour, so no refresh is due.
  await auth.login({ access_token: TOKEN, token_type: 'Bearer', expires_in: 3600 });

  // ky configured as auth.http configures it (src/http.ts): the contract's retry defaults and a 30 s timeout.
  // (auth.http gives ky `timeout: false` and applies the same 30 s per attempt inside the auth path.)
  const bareKy = ky.create({
    headers: { authorization },
    timeout: 30_000,
    retry: {
      limit: 2,
      methods: ['get', 'put', 'head', 'delete', 'options', 'trace'],
      statusCodes: [408, 429, 500, 502, 503, 504],
      afterStatusCodes: [429, 503],
    },
    throwHttpErrors: true,
  });

  const check = (body: unknown): void => {
    if ((body as { ok?: unknown }).ok !== true) throw new Error(`unexpected body ${JSON.stringify(body)}`);
  };
  const send = {
    'raw fetch': async () => {
      const response = await fetch(url, { headers: { authorization } });
      if (!response.ok) throw new Error(`status ${response.status}`);
      check(await response.json());
    },
    'auth.fetch': async () => {
      const response = await auth.fetch(url);
      if (!response.ok) throw new Error(`status ${response.status}`);
      check(await response.json());
    },
    'raw fetch + timeout': async () => {
      const controller = new AbortController();
      const timer = setTimeout(() => controller.abort(), 30_000);
      let response: Response;
      try {
        response = await fetch(url, { headers: { authorization }, signal: controller.signal });
      } finally {
        clearTimeout(timer);
      }
      if (!response.ok) throw new Error(`status ${response.status}`);
      check(await response.json());
    },
    'bare ky': async () => check(await bareKy.get(url).json()),
    'auth.http': async () => check(await auth.http.get(url).json()),
  } as const;
  type Variant = keyof typeof send;
  const names = Object.keys(send) as Variant[];

  /** One sample: a single request (sequential) or a wave of WAVE concurrent requests; returns ms per request. */
  const sample = (variant: Variant, wave: number) => async () => {
    if (wave === 1) return timed(send[variant]);
    const wall = await within(timed(() => Promise.all(Array.from({ length: wave }, send[variant]))), 30_000, `${variant} wave`);
    return wall / wave;
  };

  console.log(`bench:overhead: ${REQUESTS} GETs per variant and mode with a valid token, against ${url}`);
  console.log('  (a minimal node:http server in a child process; variants alternate request by request, or wave by wave');
  console.log('   of 50 in flight, in ABBA order; times are per request; ratios are of medians and of 25th percentiles)');

  // Warm up every variant in both modes (JIT, connection pool, ky's first-call work) before measuring.
  for (const name of names) for (let i = 0; i < 300; i++) await sample(name, 1)();
  for (const name of names) for (let i = 0; i < 6; i++) await sample(name, WAVE)();

  for (const [mode, wave] of [
    ['sequential', 1],
    [`${WAVE} in flight`, WAVE],
  ] as const) {
    deadline.check(mode);
    const samples = await interleave(Object.fromEntries(names.map((n) => [n, sample(n, wave)])) as Record<Variant, () => Promise<number>>, {
      rounds: REQUESTS / wave,
      deadline,
      minRounds: Math.min(REQUESTS / wave, 1000 / wave),
    });
    const q = (name: Variant, p: number) => quantile(samples[name], p);
    const ratio = (top: Variant, bottom: Variant, p: number) => q(top, p) / q(bottom, p);
    console.log('');
    console.log(`${mode} (${samples['raw fetch'].length * wave} requests per variant):`);
    const row = (name: Variant, base?: Variant): string[] => [
      name,
      `${(q(name, 0.5) * 1000).toFixed(1)} us`,
      `${(q(name, 0.25) * 1000).toFixed(1)} us`,
      base ? times(ratio(name, base, 0.5)) : '',
      base ? times(ratio(name, base, 0.25)) : '',
      base ?? '',
    ];
    printTable([
      ['variant', 'median', 'p25', 'ratio', 'ratio p25', 'of'],
      row('raw fetch'),
      row('auth.fetch', 'raw fetch'),
      row('raw fetch + timeout', 'raw fetch'),
      row('auth.fetch', 'raw fetch + timeout'),
      row('bare ky', 'raw fetch'),
      row('auth.http', 'bare ky'),
    ]);
    const fetchRatio = ratio('auth.fetch', 'raw fetch', 0.5);
    const httpRatio = ratio('auth.http', 'bare ky', 0.5);
    const timeoutRatio = ratio('raw fetch + timeout', 'raw fetch', 0.5);
    console.log(
      `  of auth.fetch's ${times(fetchRatio)}, the per-attempt timeout alone (an AbortSignal handed to fetch, and a timer) ` +
        `is ${times(timeoutRatio)} on this runtime; the auth path's own work is ${times(ratio('auth.fetch', 'raw fetch + timeout', 0.5))}`,
    );
    verdict(`auth.fetch vs raw fetch, ${mode}`, fetchRatio <= TARGET, `${times(fetchRatio)} (target <= ${TARGET}x)`);
    verdict(`auth.http vs bare ky, ${mode}`, httpRatio <= TARGET, `${times(httpRatio)} (target <= ${TARGET}x)`);
  }

  auth.dispose();
  server.stop();
  finish('bench:overhead');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
