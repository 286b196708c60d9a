/**
 * bench:overhead — what the auth path costs per request when nothing goes wrong (a valid token, 200s).
 *
 * Variants, each sending the same GET with the same `Authorization: Bearer` header and reading the JSON body:
 *   raw fetch            globalThis.fetch, header set by hand                       baseline of auth.fetch
 *   auth.fetch           the auth path                                     target: <= 1.05x raw fetch
 *   bare ky              ky, header by hand, retry and timeout as auth.http has them  baseline of auth.http
 *   auth.http            ky over the auth path, wrapped by src/ky-instance.ts      target: <= 1.05x bare ky
 *   raw fetch + signal   raw fetch with an abort-based timeout (an AbortController and a timer, cleared when the
 *                        headers arrive): not a target; it shows what handing fetch a signal costs on this runtime,
 *                        which is why, on Node, the auth path bounds attempts with undici's headersTimeout instead
 *                        (src/auth-path/attempt.ts)
 * 5000 requests per variant, mode (sequential, and 50 in flight) and repetition.
 *
 * Method. This machine is shared (2 cores, other jobs), and a 5% target is close to what the method itself can
 * resolve, so every comparison is a PAIR measured on its own, side by side:
 *   - the two variants of a pair alternate as finely as the mode allows, in ABBA order: sequentially, request by
 *     request, each request timed on its own; 50 in flight, wave by wave (50 concurrent requests of one variant,
 *     awaited, then a wave of the other), each wave timed. A burst from a neighbour hits both alike, medians drop it.
 *   - pairs run one after another, never mixed: in a five-variant rotation a variant's samples depend on which
 *     variant ran just before it (ky's garbage is collected during whoever comes next), which measured 2-3% of bias
 *     between two identical variants.
 *   - the estimator is paired: sample i of A and sample i of B were taken next to each other, so B[i] / A[i] is a
 *     ratio measured side by side, and a repetition's ratio is the median of those (the ratio of the two medians is
 *     printed as a cross-check; at 50 in flight it wanders by +-5% between repetitions, the paired one by +-2%).
 *   - each pair is measured several times (5000 requests each): 5 times sequentially, where one repetition already
 *     resolves +-0.5%, and 9 times with 50 in flight, where it resolves +-3% (a repetition costs a second there); the
 *     verdict is the median of the repetitions.
 *   - an A/A pair (raw fetch against itself) is measured the same way: the spread of its ratio is the resolution
 *     of the method in this run, printed next to the verdicts.
 *
 * Server. A bare `node:http` server answering 200 `{"ok":true}` (with the usual `Date` header, which the auth path
 * reads), in a child process: no token check, no routing, so its fixed cost per request, which dilutes every ratio,
 * is as small as it gets, and it does not take turns with the client on the client's event loop. The measured time
 * is dominated by the client side, which is what the targets are about; it is the strict choice.
 *
 * Run: `npm run bench:overhead` (builds dist/ first). Traffic to 127.0.0.1 only. Budget: about 90 s on 2 cores.
 */
import { spawn } from 'node:child_process';
import ky from 'ky';
import { createAuthClient } from '../dist/index.js';
import { Deadline, finish, interleave, median, quantile, printTable, ratios, times, timed, verdict, within } from './lib.js';

const REQUESTS = 5000; // per variant and mode
const WAVE = 50; // requests in flight in the concurrent mode
const TARGET = 1.05;
/** Repetitions of each pair, per mode; the verdict is the median of their ratios. */
const REPEATS = { sequential: 5, concurrent: 9 } as const;
const TOKEN = 'bench-access-token';
const deadline = new Deadline(240_000, 'bench:overhead');

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

  // ky configured as auth.http configures it (src/ky-instance.ts): the contract's retry defaults and a 30 s timeout.
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
    'raw fetch (again)': async () => {
      const response = await fetch(url, { headers: { authorization } });
      if (!response.ok) throw new Error(`status ${response.status}`);
      check(await response.json());
    },
    'raw fetch + signal': async () => {
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

  /** The pairs, each measured on its own: [baseline, measured, target or undefined when only informative]. */
  const pairs: [Variant, Variant, number | undefined][] = [
    ['raw fetch', 'auth.fetch', TARGET],
    ['bare ky', 'auth.http', TARGET],
    ['raw fetch', 'raw fetch (again)', undefined],
    ['raw fetch', 'raw fetch + signal', undefined],
  ];

  console.log(`bench:overhead: ${REQUESTS} GETs per variant, mode and repetition with a valid token, against ${url}`);
  console.log('  (a minimal node:http server in a child process; each pair measured on its own, alternating request by');
  console.log(`   request, or wave by wave of ${WAVE} in flight, in ABBA order; ratios: medians of paired ratios, per repetition)`);

  // Warm up every variant in both modes (JIT, connection pool, ky's first-call work) before measuring.
  for (const name of names) for (let i = 0; i < 300; i++) await sample(name, 1)();
  for (const name of names) for (let i = 0; i < 6; i++) await sample(name, WAVE)();

  for (const [mode, wave, repeats] of [
    ['sequential', 1, REPEATS.sequential],
    [`${WAVE} in flight`, WAVE, REPEATS.concurrent],
  ] as const) {
    console.log('');
    console.log(`${mode}:`);
    const rows: string[][] = [
      ['pair', 'medians (us, last rep.)', ...Array.from({ length: repeats }, (_, i) => `rep ${i + 1}`), 'median', 'of medians'],
    ];
    const verdicts: (() => void)[] = [];
    for (const [base, measured, target] of pairs) {
      const pairedRatios: number[] = [];
      const medianRatios: number[] = [];
      let last = '';
      for (let rep = 0; rep < repeats; rep++) {
        deadline.check(`${mode}, ${measured}`);
        const samples = await interleave({ [base]: sample(base, wave), [measured]: sample(measured, wave) } as Record<Variant, () => Promise<number>>, {
          rounds: REQUESTS / wave,
          deadline,
          minRounds: Math.min(REQUESTS / wave, 1000 / wave),
        });
        const q = (name: Variant, p: number) => quantile(samples[name], p);
        pairedRatios.push(median(ratios(samples[measured], samples[base])));
        medianRatios.push(q(measured, 0.5) / q(base, 0.5));
        last = `${(q(measured, 0.5) * 1000).toFixed(1)} / ${(q(base, 0.5) * 1000).toFixed(1)}`;
      }
      const ratio = median(pairedRatios);
      rows.push([`${measured} / ${base}`, last, ...pairedRatios.map(times), times(ratio), times(median(medianRatios))]);
      if (target !== undefined) {
        verdicts.push(() => verdict(`${measured} vs ${base}, ${mode}`, ratio <= target, `${times(ratio)} (target <= ${target}x)`));
      }
    }
    printTable(rows);
    console.log('  (raw fetch (again) / raw fetch is the A/A control: its spread is what this method resolves in this run)');
    for (const print of verdicts) print();
  }

  auth.dispose();
  server.stop();
  finish('bench:overhead');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
