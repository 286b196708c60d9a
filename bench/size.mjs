// Bundle-size check (DESIGN.md "sideEffects: false"; STYLE.md "Packaging and size").
//
// Bundles two tiny apps against the built package (dist/index.js) the way an app's bundler would (esbuild,
// minified ESM for the browser), prints the min+gzip size of each, and proves from esbuild's metafile that the
// app without dpop() and indexedDbStorage() ships neither idb-keyval nor jose's signing code, while the app with
// them ships both (so the check cannot pass vacuously, e.g. after a path layout change in jose).
//
//   npm run size          (builds first: npm run build && node bench/size.mjs)
//
// It also measures the subpath entries (authfetch/react, authfetch/testing) on their own, with their peers (react,
// msw) left to the app, and proves that they add nothing to an app that does not import them: their code is in
// files of their own, not in dist/index.js, and the core app ships none of it.
//
// Budgets (min+gzip, KiB = 1024 bytes): the contract's (core app at most 12 KiB, goal 10; with dpop() and
// indexedDbStorage() at most 20 KiB) and, while the build is above them, a ceiling at the size reached, so the
// bundle cannot grow back unnoticed. The output prints both and the gap to the contract.
//
// The breakdown: it also bundles the core app from src/ (same esbuild options) and lists the minified bytes each
// source module and each dependency puts in it, and what each dependency adds min+gzip, so the next person sees
// where the bytes are, and which modules dpop() and indexedDbStorage() add (`-- --no-breakdown` leaves it out).
//
// Exits 1 when the proof fails or an app is above its checked ceiling.
import { build } from 'esbuild';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = resolve(fileURLToPath(new URL('..', import.meta.url)));
const distEntry = join(root, 'dist', 'index.js');
const distEntries = {
  authfetch: distEntry,
  'authfetch/react': join(root, 'dist', 'react', 'index.js'),
  'authfetch/testing': join(root, 'dist', 'testing', 'index.js'),
};
for (const file of Object.values(distEntries)) {
  if (!existsSync(file)) {
    console.error(`bench/size.mjs: ${relative(root, file)} is missing; run \`npm run size\` (it builds first)`);
    process.exit(1);
  }
}

const apps = {
  core: {
    label: 'createAuthClient + oauth2Refresh + memoryStorage',
    source: `
import { createAuthClient, oauth2Refresh, memoryStorage } from 'authfetch';
export const auth = createAuthClient({
  baseUrl: 'https://api.example.com',
  storage: memoryStorage(),
  refresh: oauth2Refresh({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'my-spa' }),
});
`,
  },
  full: {
    label: '... + dpop() + indexedDbStorage()',
    source: `
import { createAuthClient, oauth2Refresh, memoryStorage, dpop, indexedDbStorage } from 'authfetch';
export const auth = createAuthClient({
  baseUrl: 'https://api.example.com',
  storage: indexedDbStorage(),
  refresh: oauth2Refresh({ tokenEndpoint: 'https://auth.example.com/oauth/token', clientId: 'my-spa' }),
  dpop: dpop(),
});
export const spare = memoryStorage();
`,
  },
  oidc: {
    label: 'createAuthClient + oidc() + memoryStorage',
    source: `
import { createAuthClient, memoryStorage, oidc } from 'authfetch';
export const auth = createAuthClient({
  baseUrl: 'https://api.example.com',
  storage: memoryStorage(),
  refresh: oidc({ issuer: 'https://login.example.com', clientId: 'my-spa', redirectUri: 'https://app.example.com/callback' }),
});
`,
  },
  // The entries on their own: what importing one adds to an app that already has the core (their peers excluded).
  react: {
    label: 'authfetch/react on its own (react external)',
    source: `export { AuthProvider, useAuth, useSession, useAuthEvent } from 'authfetch/react';`,
  },
  testing: {
    label: 'authfetch/testing on its own (msw external)',
    source: `export { createTestAuth } from 'authfetch/testing';`,
  },
};

// What oidc() may add to the core app, min+gzip: DESIGN.md's budget, 9 KiB, checked as it is. oauth4webapi's share is
// PKCE, the token endpoint request and client authentication (about 5 kB minified); the discovery, the checks of the
// authorization response, the token response and the ID token (OIDC Core 3.1.3.7), the redirect and popup hand-over,
// the one-exchange-per-code transactions and logout are authfetch's own (src/signin/).
const OIDC_BUDGET_BYTES = 9 * 1024;
const OIDC_LIMIT_BYTES = OIDC_BUDGET_BYTES;
const OAUTH4WEBAPI = /(^|\/)node_modules\/oauth4webapi\//;

// Strings only the subpath entries hold: the core app and dist/index.js must have none of them.
const ENTRY_MARKERS = {
  'authfetch/react': 'useAuth() needs an <AuthProvider',
  'authfetch/testing': 'createTestAuth:',
};
// A string only the core holds: the entries must not carry a copy of it (they import nothing of the core at run time).
const CORE_MARKER = 'authfetch: refresh started';

// What must stay out of the core app. Paths are esbuild's metafile input paths (relative to the working dir).
const IDB_KEYVAL = /(^|\/)node_modules\/idb-keyval\//;
// jose's signing code. dpop() signs its proofs with jose 6's CompactSign (jws/compact/sign.js), which signs through
// jws/flattened/sign.js and lib/jws_sign.js, the helper every jose signer shares; SignJWT (jwt/sign.js) is one more
// signer the core must not ship, though dpop() does not use it (it would add its claim builders, 0.6 KiB).
// `required`: the dpop app must ship it, so a jose upgrade that moves these files fails the check loudly instead of
// letting it pass vacuously.
const JOSE_SIGNING = {
  'jose jws/compact/sign.js (CompactSign)': {
    pattern: /(^|\/)node_modules\/jose\/dist\/[^/]+\/jws\/compact\/sign\.js$/,
    required: true,
  },
  'jose lib/jws_sign.js': { pattern: /(^|\/)node_modules\/jose\/dist\/[^/]+\/lib\/jws_sign\.js$/, required: true },
  'jose jws/*/sign.js': { pattern: /(^|\/)node_modules\/jose\/dist\/[^/]+\/jws\/[^/]+\/sign\.js$/, required: false },
  'jose jwt/sign.js (SignJWT)': { pattern: /(^|\/)node_modules\/jose\/dist\/[^/]+\/jwt\/sign\.js$/, required: false },
};
const KIB = 1024;
// `contract`: the budget the design promises. `ceiling`: what this check enforces today. Lower the ceiling with every
// cut (to the new size, rounded up to 0.1 KiB); it may never be raised to let a change through unexamined.
const BUDGETS = {
  core: { contract: 12 * KIB, ceiling: 21.4 * KIB },
  full: { contract: 20 * KIB, ceiling: 27.8 * KIB },
};
const breakdown = !process.argv.includes('--no-breakdown');

const JOSE_DECODE = /(^|\/)node_modules\/jose\/dist\/[^/]+\/util\/decode_jwt\.js$/;

const dir = await mkdtemp(join(tmpdir(), 'authfetch-size-'));
const resolveAuthfetch = {
  name: 'authfetch-dist',
  setup(b) {
    // The app imports the package by name; point it at the build, as npm would after `npm install authfetch`.
    b.onResolve({ filter: /^authfetch(\/react|\/testing)?$/ }, (args) => ({ path: distEntries[args.path] }));
  },
};

async function measure(key) {
  const entry = join(dir, `${key}.js`);
  await writeFile(entry, apps[key].source);
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    metafile: true,
    write: false,
    outfile: join(dir, `${key}.out.js`),
    plugins: [resolveAuthfetch],
    // The entries' peers belong to the app (it has react and msw anyway); only the entries' own bytes count.
    external: ['react', 'msw'],
    logLevel: 'silent',
  });
  const output = result.outputFiles.find((file) => file.path.endsWith('.out.js'));
  const meta = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  // Only inputs that put bytes in the output: a module esbuild read but tree-shook away does not ship.
  const shipped = Object.entries(meta.inputs)
    .filter(([, info]) => info.bytesInOutput > 0)
    .map(([path]) => path.replaceAll('\\', '/'));
  return {
    text: output.text,
    min: output.contents.byteLength,
    gzip: gzipSync(output.contents, { level: 9 }).byteLength,
    shipped,
  };
}

// An app bundled from the TypeScript sources: esbuild's metafile then has one input per source module.
async function measureSources(key = 'core') {
  const entry = join(dir, `${key}-src.js`);
  const source = apps[key].source.replace("from 'authfetch'", `from ${JSON.stringify(join(root, 'src', 'index.ts'))}`);
  await writeFile(entry, source);
  const options = (external) => ({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022', // as tsup builds dist/
    metafile: true,
    write: false,
    outfile: join(dir, `${key}-src.out.js`),
    external,
    logLevel: 'silent',
  });
  const result = await build(options([]));
  const meta = Object.values(result.metafile.outputs).find((o) => o.entryPoint !== undefined);
  const modules = Object.entries(meta.inputs)
    .filter(([path, info]) => info.bytesInOutput > 0 && !path.endsWith(`${key}-src.js`))
    .map(([path, info]) => ({ path: relative(root, resolve(path)).replaceAll('\\', '/'), bytes: info.bytesInOutput }));
  const gzip = (r) => gzipSync(r.outputFiles.find((f) => f.path.endsWith('.out.js')).contents, { level: 9 }).byteLength;
  const total = gzip(result);
  // What a dependency adds min+gzip: the bundle with it, less the bundle with it left out.
  const dependencies = {};
  for (const name of ['ky', 'jose', 'mitt']) dependencies[name] = total - gzip(await build(options([name])));
  return { modules, total, dependencies };
}

function printBreakdown({ modules, total, dependencies }) {
  const packageOf = (path) => path.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//)?.[1];
  const own = modules.filter((m) => !packageOf(m.path)).sort((a, b) => b.bytes - a.bytes);
  const byPackage = new Map();
  for (const m of modules) {
    const name = packageOf(m.path);
    if (name) byPackage.set(name, (byPackage.get(name) ?? 0) + m.bytes);
  }
  const sum = (list) => list.reduce((n, m) => n + m.bytes, 0);
  const all = sum(modules);
  const row = (label, bytes, extra = '') =>
    console.log(`  ${label.padEnd(40)} ${String(bytes).padStart(6)} B min ${((bytes / all) * 100).toFixed(1).padStart(5)} %${extra}`);
  console.log('');
  // From src/ rather than dist/ (where tsup has merged every module into one input), hence a total a little off the
  // measured figure above.
  console.log(`breakdown of the core app built from src/ (minified bytes in the output; ${kb(total)} min+gzip in all):`);
  for (const [name, bytes] of [...byPackage].sort((a, b) => b[1] - a[1])) {
    const added = dependencies[name] === undefined ? '' : `   adds ${kb(dependencies[name])} min+gzip`;
    row(`${name} (dependency)`, bytes, added);
  }
  row('authfetch (own code)', sum(own));
  for (const m of own) row(`  ${m.path}`, m.bytes);
}

// What dpop() and indexedDbStorage() add: the modules the full app ships beyond the core app's (or larger there).
function printAdded(core, full) {
  const before = new Map(core.modules.map((m) => [m.path, m.bytes]));
  const added = full.modules
    .map((m) => ({ path: m.path, bytes: m.bytes - (before.get(m.path) ?? 0) }))
    // A few bytes more in a shared module are minified names running longer, not code.
    .filter((m) => m.bytes >= 32)
    .sort((a, b) => b.bytes - a.bytes);
  console.log('');
  console.log(`what dpop() + indexedDbStorage() add to it (minified bytes; ${kb(full.total - core.total)} min+gzip in all):`);
  for (const m of added) console.log(`    ${m.path.padEnd(58)} ${String(m.bytes).padStart(6)} B min`);
}

const kb = (bytes) => `${(bytes / KIB).toFixed(1)} KiB`;
let failed = false;
const check = (ok, message) => {
  console.log(`  ${ok ? 'ok  ' : 'FAIL'} ${message}`);
  if (!ok) failed = true;
};

try {
  const core = await measure('core');
  const full = await measure('full');
  const signIn = await measure('oidc');
  console.log('authfetch bundle size (esbuild, minified ESM for the browser, gzip -9):');
  console.log(`  ${apps.core.label.padEnd(52)} ${kb(core.min).padStart(9)} min  ${kb(core.gzip).padStart(8)} min+gzip`);
  console.log(`  ${apps.full.label.padEnd(52)} ${kb(full.min).padStart(9)} min  ${kb(full.gzip).padStart(8)} min+gzip`);
  console.log(`  ${apps.oidc.label.padEnd(52)} ${kb(signIn.min).padStart(9)} min  ${kb(signIn.gzip).padStart(8)} min+gzip`);
  const budgets = { core, full };
  const entries = { 'authfetch/react': await measure('react'), 'authfetch/testing': await measure('testing') };
  for (const [key, app] of [['react', entries['authfetch/react']], ['testing', entries['authfetch/testing']]]) {
    console.log(`  ${apps[key].label.padEnd(52)} ${kb(app.min).padStart(9)} min  ${kb(app.gzip).padStart(8)} min+gzip`);
  }
  if (breakdown) {
    const coreSources = await measureSources('core');
    printBreakdown(coreSources);
    printAdded(coreSources, await measureSources('full'));
  }
  console.log('');
  console.log('budgets (min+gzip):');
  for (const [key, { contract, ceiling }] of Object.entries(BUDGETS)) {
    const size = budgets[key].gzip;
    const gap = size > contract ? `, ${kb(size - contract)} over the contract's ${kb(contract)}` : `, within the contract's ${kb(contract)}`;
    check(size <= ceiling, `${key} app ${kb(size)} (${size} B) <= ceiling ${kb(ceiling)}${gap}`);
  }
  console.log('');
  console.log('proof from the metafiles:');

  const has = (app, pattern) => app.shipped.filter((path) => pattern.test(path));
  const show = (paths) => paths.map((p) => relative(root, resolve(p))).join(', ');

  // The full app shows what the patterns catch; the core app must have none of it.
  const fullIdb = has(full, IDB_KEYVAL);
  check(fullIdb.length > 0, `the dpop + IndexedDB app ships idb-keyval (${show(fullIdb) || 'none found'})`);
  for (const [label, { pattern, required }] of Object.entries(JOSE_SIGNING)) {
    if (!required) continue;
    const found = has(full, pattern);
    check(found.length > 0, `the dpop + IndexedDB app ships ${label} (${show(found) || 'none found'})`);
  }

  const coreIdb = has(core, IDB_KEYVAL);
  check(coreIdb.length === 0, `the core app ships no idb-keyval${coreIdb.length ? ` (found ${show(coreIdb)})` : ''}`);
  for (const [label, { pattern }] of Object.entries(JOSE_SIGNING)) {
    const found = has(core, pattern);
    check(found.length === 0, `the core app ships no ${label}${found.length ? ` (found ${show(found)})` : ''}`);
  }
  // Any jose module only the dpop app needs must be signing/key code, never something the core lost by accident;
  // and the core keeps jose's decodeJwt (expiry of JWT access tokens).
  check(has(core, JOSE_DECODE).length > 0, "the core app keeps jose's decodeJwt (token expiry)");
  // Our own modules are one input (dist/index.js), so the metafile cannot show them: the proof header's `typ`, a
  // string only src/dpop/ holds, shows whether the dpop() code itself was shaken out.
  check(full.text.includes('dpop+jwt') && !core.text.includes('dpop+jwt'), "authfetch's own dpop() code is only in the dpop app");
  const joseOnlyInFull = full.shipped.filter((p) => p.includes('node_modules/jose/') && !core.shipped.includes(p));
  console.log(`  info jose modules only the dpop app ships: ${show(joseOnlyInFull)}`);
  // oidc(): oauth4webapi and the sign-in code ship only with it. 'authfetch-signin' (the popup's window name) is a
  // string only src/signin/ holds, as 'dpop+jwt' is for dpop().
  const oidcOauth = has(signIn, OAUTH4WEBAPI);
  check(oidcOauth.length > 0, `the oidc() app ships oauth4webapi (${show(oidcOauth) || 'none found'})`);
  const coreOauth = [...has(core, OAUTH4WEBAPI), ...has(full, OAUTH4WEBAPI)];
  check(coreOauth.length === 0, `the core and dpop apps ship no oauth4webapi${coreOauth.length ? ` (found ${show(coreOauth)})` : ''}`);
  check(
    signIn.text.includes('authfetch-signin') && !core.text.includes('authfetch-signin') && !full.text.includes('authfetch-signin'),
    "authfetch's own sign-in code is only in the oidc() app",
  );
  const added = signIn.gzip - core.gzip;
  check(
    added <= OIDC_LIMIT_BYTES,
    `an app with oidc() instead of oauth2Refresh adds ${kb(added)} min+gzip to the core app (limit ${kb(OIDC_LIMIT_BYTES)}; ` +
      (added <= OIDC_BUDGET_BYTES ? `within the ${kb(OIDC_BUDGET_BYTES)} budget)` : `${kb(added - OIDC_BUDGET_BYTES)} over the ${kb(OIDC_BUDGET_BYTES)} budget)`),
  );
  // The subpath entries add nothing to an app that does not import them.
  const coreBuild = readFileSync(distEntry, 'utf8');
  for (const [entry, marker] of Object.entries(ENTRY_MARKERS)) {
    check(entries[entry].text.includes(marker), `${entry} holds its own code (${JSON.stringify(marker)})`);
    check(!coreBuild.includes(marker), `dist/index.js holds none of ${entry}`);
    check(!core.text.includes(marker) && !full.text.includes(marker), `the core and full apps ship none of ${entry}`);
    check(!entries[entry].text.includes(CORE_MARKER), `${entry} carries no copy of the core`);
  }
  check(!/["']react["']|["']msw["']/.test(coreBuild), 'dist/index.js imports neither react nor msw');
  check(
    core.gzip < full.gzip,
    `the core app is smaller (${kb(full.gzip - core.gzip)} min+gzip saved by not using dpop() and indexedDbStorage())`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}

if (failed) {
  console.error(
    '\nbundle-size check FAILED (see FAIL lines): an app above its ceiling (lower it only with a cut; raising it needs a\n' +
      'reason in the commit), or an app that pulls in code it does not use',
  );
  process.exit(1);
}
