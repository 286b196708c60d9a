/**
 * Which origins may receive the access token. The check runs before every request, so it is a prefix comparison per
 * authorized origin plus, only when that cannot say, one URL parse and a scan of the RegExp rules.
 */

/** An authorized origin: a URL string (only its origin counts) or a RegExp anchored `^...$` that must match the whole origin. */
export type OriginRule = string | RegExp;

/** Decides whether a URL's origin is authorized to receive the token. */
export type OriginMatcher = (url: string) => boolean;

/**
 * A RegExp source anchored at both ends: a `^` first, and a `$` last that is an anchor, not an escaped `\$` (an even
 * run of backslashes before it).
 */
const ANCHORED = /^\^(?:[^]*[^\\])?(?:\\\\)*\$$/;

/** The origin of an absolute URL string, or `undefined` when it is not one. */
export function originOf(url: string): string | undefined {
  try {
    const origin = new URL(url).origin;
    // Opaque origins ("null": data:, blob:, file:) never match: a token must not leak to them.
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** Whether two absolute URLs have the same (non-opaque) origin. */
export function sameOrigin(a: string, b: string): boolean {
  const origin = originOf(a);
  return origin !== undefined && origin === originOf(b);
}

/** A rule that could authorize the wrong origins, refused when the client is created. */
function refuse(why: string): never {
  throw new TypeError(`authfetch: authorizedOrigins entry ${why}`);
}

/**
 * Build the matcher. String rules are reduced to their origin (`https://api.example.com/v1` authorizes
 * `https://api.example.com`); a rule that is not an absolute URL throws a TypeError at creation rather than
 * silently authorizing nothing. A RegExp rule must be anchored (`^...$`, else a TypeError at creation) and must
 * match the whole origin (`https://api.example.com`: scheme, host and a non-default port, no path), each
 * alternative too: `/^https:\/\/a\.example$|^https:\/\/b\.example$/`.
 */
export function createOriginMatcher(rules: readonly OriginRule[]): OriginMatcher {
  // A short list: `includes` on it is as fast as a Set lookup, and a repeated rule does no harm.
  const exact: string[] = [];
  const patterns: RegExp[] = [];
  for (const rule of rules) {
    if (rule instanceof RegExp) {
      // An unanchored rule is how a token reaches a look-alike host; refusing it at creation is louder than the
      // wrapping below silently matching nothing the app meant.
      if (!ANCHORED.test(rule.source)) refuse(`${rule} must be anchored (^...$) and match the whole origin`);
      // The rule must match the whole origin, as an HTML `pattern` attribute does: `test()` alone finds a match
      // anywhere, so `/^https:\/\/api\.example\.com/` (no `$`) also authorized `https://api.example.com.evil.net`,
      // and `/^https:\/\/a$|^https:\/\/b/` anchored only one side of each alternative. The group keeps the
      // rule's own capture numbering. A global or sticky RegExp keeps lastIndex between test() calls and would
      // alternate true/false, so those flags are dropped.
      patterns.push(new RegExp(`^(?:${rule.source})$`, rule.flags.replace(/[gy]/g, '')));
    } else {
      exact.push(originOf(rule) ?? refuse(`"${rule}" is not an absolute http(s) URL`));
    }
  }
  return (url) => {
    // Fast path, without parsing: a URL that starts with an authorized origin followed by "/", "?", "#" or nothing
    // has exactly that origin (a userinfo "@", a port ":" or a longer host would follow the prefix otherwise).
    // Anything else (uppercase, default ports, other origins) is decided by the URL parser as before.
    for (const origin of exact) if (url.startsWith(origin) && '/?#'.includes(url[origin.length] ?? '/')) return true;
    const origin = originOf(url);
    return origin !== undefined && (exact.includes(origin) || patterns.some((pattern) => pattern.test(origin)));
  };
}
