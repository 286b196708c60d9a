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
  try {
    // Objects and functions only (Object() wraps a primitive, and gives null and undefined a new object).
    return Object(value) === value ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  } catch {
    return undefined;
  }
}
