/**
 * Which origins may receive the access token. The check runs before every request, so it is a Set lookup on the
 * origin string plus, only when RegExp rules exist, a scan of those.
 */

/** An authorized origin: a URL string (only its origin counts) or a RegExp tested against the origin. */
export type OriginRule = string | RegExp;

/** Decides whether a URL's origin is authorized to receive the token. */
export type OriginMatcher = (url: string) => boolean;

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

/**
 * Build the matcher. String rules are reduced to their origin (`https://api.example.com/v1` authorizes
 * `https://api.example.com`); a rule that is not an absolute URL throws a TypeError at creation rather than
 * silently authorizing nothing. RegExp rules are tested against the origin (`https://api.example.com`, no path),
 * so anchor them: `/^https:\/\/[a-z]+\.example\.com$/`.
 */
export function createOriginMatcher(rules: readonly OriginRule[]): OriginMatcher {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const rule of rules) {
    if (rule instanceof RegExp) {
      // A global or sticky RegExp keeps lastIndex between test() calls and would alternate true/false.
      patterns.push(new RegExp(rule.source, rule.flags.replace(/[gy]/g, '')));
    } else {
      const origin = originOf(rule);
      if (origin === undefined) {
        throw new TypeError(`authfetch: authorizedOrigins entry "${rule}" is not an absolute http(s) URL`);
      }
      exact.add(origin);
    }
  }
  const exactList = [...exact];
  return (url) => {
    // Fast path, without parsing: a URL that starts with an authorized origin followed by "/", "?", "#" or nothing
    // has exactly that origin (a userinfo "@", a port ":" or a longer host would follow the prefix otherwise).
    // Anything else (uppercase, default ports, other origins) is decided by the URL parser as before.
    for (const origin of exactList) {
      if (url.startsWith(origin)) {
        const next = url.charCodeAt(origin.length);
        if (Number.isNaN(next) || next === 47 /* / */ || next === 63 /* ? */ || next === 35 /* # */) return true;
      }
    }
    const origin = originOf(url);
    if (origin === undefined) return false;
    if (exact.has(origin)) return true;
    for (const pattern of patterns) if (pattern.test(origin)) return true;
    return false;
  };
}
