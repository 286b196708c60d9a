// @ts-check
/**
 * The flow in a server-side runtime (Node, Bun, Deno): `<runtime> cli-entry.mjs <server-url> <control-url>` loads the
 * built package (`dist/index.js`, its dependencies from `node_modules`), runs the flow and prints its result as one
 * JSON line.
 */
import * as lib from '../../dist/index.js';
import { runFlow } from './flow.mjs';

/** @type {{ Deno?: { args: string[] } }} */
const runtime = /** @type {never} */ (globalThis);
const [server, control] = runtime.Deno ? runtime.Deno.args : process.argv.slice(2);
if (!server || !control) throw new Error('usage: cli-entry.mjs <server-url> <control-url>');
const result = await runFlow(lib, { server, control });
console.log(JSON.stringify(result));
