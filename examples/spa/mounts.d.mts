/** Types for `mounts.mjs`, so strict TypeScript tests and benchmarks import it with types. */

/** The repository root, as an absolute path with a trailing separator. */
export declare const repoRoot: string;

/** Bundle `ky`, `jose`, `mitt` and `idb-keyval` into one ESM file each in a fresh temporary directory; resolves with it. */
export declare function bundleDependencies(): Promise<string>;

/**
 * The `static` option of `startExampleServer` for the example app: URL prefix to absolute directory
 * (`/` the page, `/dist/` the package's build, `/vendor/` its dependencies, named by the import map).
 */
export declare function spaStaticMounts(): Promise<Record<string, string>>;
