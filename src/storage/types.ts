/**
 * The storage contract, re-exported so that a custom storage can be written against `storage/` alone.
 * The interfaces themselves live in `../types.ts` because the client, the coordinator and DPoP share them.
 */
export type { TokenSet, TokenStorage } from '../types.js';
