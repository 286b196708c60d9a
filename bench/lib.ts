/**
 * Shared helpers of the benchmarks: medians, interleaved rounds, bounded request pools, deadlines and the
 * printed table and verdict lines.
 *
 * Machines here are shared and noisy (2 cores, other jobs), so a benchmark never compares two numbers taken at
 * different times: it runs its variants side by side in ONE process, alternating (A B, B A, A B, ...) over several
 * rounds, and reports medians of the per-round ratios. The alternation in ABBA order cancels a slow drift (a
 * warming JIT, a neighbour job starting) that a plain A B A B order would charge to one variant.
 */
import { performance } from 'node:perf_hooks';

/** The median of some numbers (mean of the middle two for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/** The `q` quantile (0..1, nearest rank) of some numbers; NaN for none. `quantile(v, 0.5)` is close to the median. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))] as number;
}

/** Milliseconds since an arbitrary origin (monotonic). */
export function now(): number {
  return performance.now();
}

/** Wall time of one async run, in ms. */
export async function timed(run: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

/**
 * A time budget for a whole benchmark. Every loop checks it, so a benchmark on a machine far slower than expected
 * stops by itself with a clear message instead of running on.
 */
export class Deadline {
  readonly #end: number;
  constructor(
    readonly budgetMs: number,
    readonly label: string,
  ) {
    this.#end = performance.now() + budgetMs;
  }

  /** Milliseconds left (negative once over). */
  get remainingMs(): number {
    return this.#end - performance.now();
  }

  /** Whether the budget is spent. */
  get expired(): boolean {
    return this.remainingMs <= 0;
  }

  /** Throw when the budget is spent. */
  check(where: string): void {
    if (this.expired) throw new Error(`${this.label}: time budget of ${this.budgetMs} ms spent (at ${where})`);
  }
}

/** Reject after `ms` if `promise` has not settled by then (a hung burst must not hang the benchmark). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer));
}

/**
 * Run `task(i)` for i in [0, count) with at most `concurrency` in flight; resolves when all are done and rejects
 * with the first error. `concurrency: 1` is a plain sequential loop.
 */
export async function pool(count: number, concurrency: number, task: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await task(i);
    }
  };
  const workers: Promise<void>[] = [];
  for (let w = 0; w < Math.min(concurrency, count); w++) workers.push(worker());
  await Promise.all(workers);
}

/**
 * Run each variant once per round, alternating the order in ABBA fashion (round 0: A B, round 1: B A, ...), for
 * `rounds` rounds or until the deadline: returns each variant's samples (one number per round, index-aligned, so
 * `samples.B[i] / samples.A[i]` is a ratio measured side by side). At least `minRounds` rounds run whatever the
 * deadline says, unless a round itself throws.
 */
export async function interleave<K extends string>(
  variants: Record<K, () => Promise<number>>,
  options: { rounds: number; deadline?: Deadline; minRounds?: number },
): Promise<Record<K, number[]>> {
  const names = Object.keys(variants) as K[];
  const samples = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<K, number[]>;
  const minRounds = options.minRounds ?? Math.min(3, options.rounds);
  for (let round = 0; round < options.rounds; round++) {
    if (round >= minRounds && options.deadline?.expired) {
      console.log(`  (stopped after ${round} of ${options.rounds} rounds: time budget spent)`);
      break;
    }
    const order = round % 2 === 0 ? names : [...names].reverse();
    // Collect the round first and keep it only when complete, so the samples stay index-aligned.
    const results = new Map<K, number>();
    for (const name of order) results.set(name, await variants[name]());
    for (const name of names) samples[name].push(results.get(name) as number);
  }
  return samples;
}

/** Per-round ratios `top[i] / bottom[i]`. */
export function ratios(top: readonly number[], bottom: readonly number[]): number[] {
  return top.map((t, i) => t / (bottom[i] as number));
}

/** `12.3 ms`. */
export function ms(value: number, digits = 1): string {
  return `${value.toFixed(digits)} ms`;
}

/** `1.034x`. */
export function times(value: number): string {
  return `${value.toFixed(3)}x`;
}

/** Print rows as an aligned text table (first row: the header). */
export function printTable(rows: readonly (readonly string[])[]): void {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  rows.forEach((row, r) => {
    console.log('  ' + row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number))).join('  '));
    if (r === 0) console.log('  ' + widths.map((w) => '-'.repeat(w)).join('  '));
  });
}

/** Verdicts printed so far; `finish()` sets the exit code from them. */
const verdicts: { name: string; ok: boolean }[] = [];

/** Print one PASS/FAIL line for a target. */
export function verdict(name: string, ok: boolean, detail: string): void {
  verdicts.push({ name, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
}

/** Print the summary line and set a non-zero exit code when a target was missed. */
export function finish(title: string): void {
  const failed = verdicts.filter((v) => !v.ok);
  console.log('');
  console.log(
    failed.length === 0
      ? `${title}: all ${verdicts.length} targets met`
      : `${title}: ${failed.length} of ${verdicts.length} targets missed (${failed.map((v) => v.name).join('; ')})`,
  );
  if (failed.length > 0) process.exitCode = 1;
}
