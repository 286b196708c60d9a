/**
 * The `WWW-Authenticate` parser (RFC 9110 section 11.6.1, which replaced RFC 7235 section 4.1) and the reading
 * of the params that RFC 6750 (Bearer), RFC 9470 (step-up) and RFC 9449 (DPoP) give meaning to.
 *
 * The header is attacker-reachable input (any server, proxy or captive portal can send one), so the parser is
 * a single-pass scanner: sticky regular expressions whose alternatives start with disjoint characters and whose
 * matches always succeed (nothing to backtrack into), every character looked at a bounded number of times, and
 * never an exception. Whatever cannot be read is skipped up to the next list
 * comma, and parsing goes on from there.
 *
 * The grammar (RFC 9110 sections 11.6.1, 11.2, 5.6.2, 5.6.4 and 5.6.1 for the list syntax):
 *
 * ```
 * WWW-Authenticate = #challenge
 * challenge        = auth-scheme [ 1*SP ( token68 / #auth-param ) ]
 * auth-param       = token BWS "=" BWS ( token / quoted-string )
 * token68          = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
 * ```
 *
 * The list syntax makes one thing look ambiguous: after `Basic realm="x", ` the next element may be another
 * auth-param of Basic or a new challenge. The grammar settles it by lookahead: an element that starts with
 * `token BWS "="` is an auth-param (a scheme is followed by SP, a comma or the end, never by "="); anything
 * else that starts with a token is a new challenge. (The ambiguity RFC 9110 section 11.6.1 does note, where
 * an empty element belongs, changes nothing.)
 */

/** One challenge of a WWW-Authenticate header (RFC 9110 section 11.6.1). */
export interface Challenge {
  /** The auth-scheme, lower-cased: 'bearer', 'dpop', 'basic', ... */
  scheme: string;
  /** auth-params; names lower-cased, values unquoted and unescaped; the first occurrence of a name wins. A null-prototype object. */
  params: Record<string, string>;
  /** The token68 when the challenge carries one instead of params. */
  token68?: string;
}

/** What RFC 6750 / 9470 / 9449 give the params of challenges meaning; internal helper used by errors.ts. */
export interface ChallengeSummary {
  /** scheme of the challenge the summary was read from (the first bearer/dpop challenge carrying an `error`, else the first bearer/dpop one, else the first) */
  scheme?: string;
  /** RFC 6750 section 3.1 error code, e.g. 'invalid_token', 'insufficient_scope', 'insufficient_user_authentication', 'use_dpop_nonce', 'invalid_dpop_proof' */
  error?: string;
  /** RFC 6750 section 3 `error_description`: developer-facing text, not for the UI. */
  errorDescription?: string;
  /** RFC 6750 section 3 `scope`, split on spaces; absent when missing or empty. */
  scope?: string[];
  /** RFC 9470 section 3 `acr_values`, split on spaces; absent when missing or empty. */
  acrValues?: string[];
  /** RFC 9470 section 3 `max_age` in seconds: a non-negative integer, else undefined. */
  maxAge?: number;
  /** RFC 9449 section 7.1 `algs`, split on spaces; absent when missing or empty. */
  algs?: string[];
  /** RFC 9110 section 11.5 `realm`. */
  realm?: string;
}

// Sticky (`y`) regular expressions, each run at one index. A match is all-or-nothing for one element of the list:
// the only backtracking is over the token just read, and a failed match is followed by a scan past that token, so
// every character is looked at a bounded number of times. tchar is RFC 9110 section 5.6.2, token68's characters
// section 11.2, quoted-string section 5.6.4, OWS / BWS section 5.6.3.
/**
 * auth-param = token BWS "=" BWS ( token / quoted-string ). An unquoted value runs to the next comma or whitespace.
 * An unterminated quoted-string takes the rest of the header: there is no closing quote to resync on (a comma may
 * belong to the value), and keeping the text keeps e.g. a cut `error_description` useful. Any unit may be escaped
 * (lenient: nothing is gained by rejecting the rest).
 */
const PARAM = /([\w!#$%&'*+.^`|~-]+)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\[\s\S]?)*)"?|([^, \t]*))/y;
/** An auth-scheme: a token followed by whitespace, a comma or the end (not by "=", nor glued to other text). */
const SCHEME = /([\w!#$%&'*+.^`|~-]+)(?![^, \t])[ \t]*/y;
/** A token68 that fills the whole element: its characters, its "=" padding, then a comma or the end. */
const TOKEN68 = /([\w.~+/-]+=*)[ \t]*(?![^,])/y;
/** Empty list elements and the OWS around commas (RFC 9110 section 5.6.1). */
const SEPARATORS = /[, \t]*/y;
/**
 * What cannot be read, up to (not past) the next comma outside a quoted-string, as RFC 9110 section 5.6.1 lists are
 * split: a comma inside quotes does not end an element.
 */
const ELEMENT = /(?:[^",]|"(?:[^"\\]|\\[\s\S]?)*"?)*/y;

/**
 * Parse a WWW-Authenticate header value (or several joined with ", ", as `Headers.get` joins them) into its
 * challenges (RFC 9110 section 11.6.1). Linear time; never throws; returns [] for null/undefined/empty.
 *
 * Lenient where it costs nothing, so real servers' headers read as meant:
 * - scheme and param names are case-insensitive (RFC 9110 sections 11.1 and 11.2) and come back lower-cased;
 *   values keep their case; the first occurrence of a param name wins (RFC 9110 section 11.2 says each name
 *   occurs once; the first is the one a strict reader would have accepted);
 * - whitespace (SP or HTAB) around `=` and commas, and empty list elements (`, ,`), are accepted;
 * - an unquoted value runs to the next comma or whitespace, so a value like `a/b` or `abc==` is kept whole;
 * - an unterminated quoted-string takes the rest of the header as its value;
 * - params that follow a scheme after a comma (`Basic, realm="x"`) belong to that scheme;
 * - params after a token68 are dropped, since a challenge carries one or the other;
 * - anything else that cannot be read (an element that is not a token, text after a value) is skipped up to
 *   the next comma outside quotes, and parsing goes on.
 *
 * Every `params` object has a null prototype, so names like `__proto__` or `constructor` are plain keys.
 *
 * @param header The header value, e.g. `response.headers.get('WWW-Authenticate')`.
 * @returns The challenges in header order.
 *
 * @example
 * ```ts
 * parseChallenges('Basic realm="simple", Bearer error="invalid_token", Negotiate YIIB==');
 * // [
 * //   { scheme: 'basic', params: { realm: 'simple' } },
 * //   { scheme: 'bearer', params: { error: 'invalid_token' } },
 * //   { scheme: 'negotiate', params: {}, token68: 'YIIB==' },
 * // ]
 * ```
 */
export function parseChallenges(header: string | null | undefined): Challenge[] {
  const challenges: Challenge[] = [];
  // The type says string, but a JavaScript caller may pass anything; "never throws" covers that too.
  if (typeof header !== 'string') return challenges;
  const s = header;
  const at = (pattern: RegExp, i: number) => ((pattern.lastIndex = i), pattern.exec(s));
  const skip = (i: number) => (at(ELEMENT, i), ELEMENT.lastIndex);
  // The challenge that takes the params read: none before the first challenge and after a token68 (params there
  // belong to no challenge).
  let current: Challenge | undefined;
  let match: RegExpExecArray | null;

  for (let i = 0; (at(SEPARATORS, i), (i = SEPARATORS.lastIndex)) < s.length; ) {
    if ((match = at(PARAM, i))) {
      if (current) {
        const name = match[1]!.toLowerCase();
        // A quoted-pair loses its backslash; a lone one at the very end escapes nothing and is dropped.
        const value = match[2]?.replace(/\\([\s\S]?)/g, '$1') ?? match[3]!;
        if (!Object.hasOwn(current.params, name)) current.params[name] = value;
      }
      // Text after the value, if any, is skipped.
      i = skip(PARAM.lastIndex);
    } else if ((match = at(SCHEME, i))) {
      // A new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ].
      current = { scheme: match[1]!.toLowerCase(), params: Object.create(null) as Record<string, string> };
      challenges.push(current);
      i = SCHEME.lastIndex;
      if ((match = at(TOKEN68, i))) {
        // token68 only when it fills the whole element: `abc=` followed by a comma is token68, `abc=def` a param.
        current.token68 = match[1]!;
        current = undefined;
        i = TOKEN68.lastIndex;
      } else if (s[i] !== ',' && !at(PARAM, i)) {
        // The first element after a scheme must be an auth-param, which the next turn of the loop reads. If it is
        // not (`Bearer foo bar`), skip it rather than take `foo` for a new scheme: it follows SP, not a comma.
        i = skip(i);
      }
    } else {
      // Not a token, or a token glued to something else (`foo/bar`, `foo"x"`): neither a scheme nor a param.
      i = skip(i);
    }
  }
  return challenges;
}

const isBearerLike = (challenge: Challenge): boolean => challenge.scheme === 'bearer' || challenge.scheme === 'dpop';

// The params a summary reads, in its order; the space-delimited lists (RFC 6749 section 3.3 scope, RFC 9470
// acr_values, RFC 9449 algs) are split, and an empty one reads as absent.
const SUMMARY_PARAMS = 'error error_description scope acr_values max_age algs realm'.split(' ');
const LIST_PARAMS = ['scope', 'acr_values', 'algs'];

/**
 * Reads what RFC 6750 (Bearer), RFC 9470 (step-up) and RFC 9449 (DPoP) say the params of a 401 or 403 mean,
 * from the one challenge that matters: the first `bearer`/`dpop` challenge carrying an `error`, else the first
 * `bearer`/`dpop` one, else the first. Returns `{}` when there are no challenges. Only params that are present
 * (and, for `max_age`, a non-negative integer) appear in the result.
 *
 * Internal: errors.ts uses it to pick an `UnauthorizedError` reason, a `ForbiddenError`'s `requiredScope` and
 * the `stepUp` event's payload.
 *
 * @param challenges What {@link parseChallenges} returned.
 *
 * @example
 * ```ts
 * summarizeChallenges(parseChallenges(
 *   'Bearer error="insufficient_user_authentication", acr_values="myACR", max_age=300',
 * ));
 * // { scheme: 'bearer', error: 'insufficient_user_authentication', acrValues: ['myACR'], maxAge: 300 }
 * ```
 */
export function summarizeChallenges(challenges: readonly Challenge[]): ChallengeSummary {
  const chosen =
    challenges.find((c) => isBearerLike(c) && Object.hasOwn(c.params, 'error')) ??
    challenges.find(isBearerLike) ??
    challenges[0];
  if (!chosen) return {};

  const summary: Record<string, unknown> = { scheme: chosen.scheme };
  for (const name of SUMMARY_PARAMS) {
    // hasOwn, not plain indexing: a hand-built Challenge may have an ordinary object whose `constructor` or
    // `toString` would otherwise read as a param.
    const raw = Object.hasOwn(chosen.params, name) ? chosen.params[name] : undefined;
    if (typeof raw !== 'string') continue;
    const items = raw.split(/[ \t]+/).filter(Boolean);
    const value =
      // RFC 9470 section 3: max_age is seconds since authentication, a non-negative integer (as in OIDC Core).
      name === 'max_age' ? (/^\d+$/.test(raw) && Number.isSafeInteger(+raw) ? +raw : undefined) : LIST_PARAMS.includes(name) ? items[0] && items : raw;
    // error_description -> errorDescription, acr_values -> acrValues, max_age -> maxAge.
    if (value !== undefined) summary[name.replace(/_(.)/g, (_, letter: string) => letter.toUpperCase())] = value;
  }
  return summary as ChallengeSummary;
}
