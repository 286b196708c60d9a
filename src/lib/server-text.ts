/**
 * Text that came from a server (an OAuth `error` code, a scope), made fit to keep in an error field: control
 * characters (C0, DEL, C1; CR/LF would forge log lines) removed, the length capped, and dropped entirely when it
 * contains one of the secrets the request carried (a server that echoes the request would otherwise hand the
 * refresh token or client secret back into an error, an event and the logs).
 *
 * @param secrets the values sent in the request that must never come back (empty strings are ignored)
 * @param maxLength the most characters kept (default 64)
 * @example
 * ```ts
 * serverText('invalid_grant\r\nX-Injected: 1', [refreshToken]); // 'invalid_grantX-Injected: 1'
 * ```
 */
export function serverText(value: unknown, secrets: readonly (string | undefined)[] = [], maxLength = 64): string | undefined {
  if (typeof value !== 'string') return undefined;
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, '').slice(0, maxLength);
  const echoes = secrets.some((secret) => secret && (value.includes(secret) || (clean.length >= 8 && secret.includes(clean))));
  return clean && !echoes ? clean : undefined;
}
