/**
 * Read `value[key]` without ever throwing: a throwing getter or a revoked Proxy (an error from another library,
 * a hostile object) gives `undefined`. For code that inspects values of unknown origin (errors, causes).
 *
 * @example
 * ```ts
 * readProperty(error, 'code'); // unknown, never a throw
 * ```
 */
export function readProperty(value: unknown, key: PropertyKey): unknown {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return undefined;
  try {
    return (value as Record<PropertyKey, unknown>)[key];
  } catch {
    return undefined;
  }
}
