/**
 * The `WWW-Authenticate` parser (RFC 9110 section 11.6.1, which replaced RFC 7235 section 4.1) and the reading
 * of the params that RFC 6750 (Bearer), RFC 9470 (step-up) and RFC 9449 (DPoP) give meaning to.
 *
 * The header is attacker-reachable input (any server, proxy or captive portal can send one), so the parser is
 * a hand-written single-pass scanner: no regular expressions that could backtrack, every character looked at a
 * bounded number of times, and never an exception. Whatever cannot be read is skipped up to the next list
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

const SP = 0x20;
const HTAB = 0x09;
const COMMA = 0x2c;
const EQUALS = 0x3d;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

/** Builds a lookup table over ASCII for a class of characters; anything >= 128 is outside every class here. */
function asciiTable(extra: string): Uint8Array {
  const table = new Uint8Array(128);
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1; // DIGIT
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1; // ALPHA upper
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1; // ALPHA lower
  for (let k = 0; k < extra.length; k++) table[extra.charCodeAt(k)] = 1;
  return table;
}

/** tchar, RFC 9110 section 5.6.2. */
const TCHAR = asciiTable("!#$%&'*+-.^_`|~");
/** The characters of token68 before its trailing "=" padding, RFC 9110 section 11.2. */
const TOKEN68_CHAR = asciiTable('-._~+/');

// charCodeAt past the end is NaN, which these comparisons treat as "not in the class", so no bounds checks.
const isTchar = (c: number): boolean => c < 128 && TCHAR[c] === 1;
const isToken68Char = (c: number): boolean => c < 128 && TOKEN68_CHAR[c] === 1;
const isOws = (c: number): boolean => c === SP || c === HTAB;

/** OWS / BWS, RFC 9110 section 5.6.3. */
function skipOws(s: string, i: number): number {
  while (isOws(s.charCodeAt(i))) i++;
  return i;
}

function scanToken(s: string, i: number): number {
  while (isTchar(s.charCodeAt(i))) i++;
  return i;
}

/** The end of a token68 starting at `i`, or `i` itself when there is none. */
function scanToken68(s: string, i: number): number {
  let j = i;
  while (isToken68Char(s.charCodeAt(j))) j++;
  if (j === i) return i;
  while (s.charCodeAt(j) === EQUALS) j++;
  return j;
}

/**
 * Reads a quoted-string whose opening quote is just before `i` (RFC 9110 section 5.6.4), removing the
 * backslash of each quoted-pair. Returns the value and the index after the closing quote.
 *
 * An unterminated string takes the rest of the header as its value: there is no closing quote to resync on
 * (a comma may belong to the value), and keeping the text keeps e.g. a truncated `error_description` useful.
 * A lone backslash at the very end escapes nothing and is dropped.
 */
function readQuoted(s: string, i: number): [value: string, end: number] {
  const n = s.length;
  let value = '';
  let segment = i;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === DQUOTE) return [value + s.slice(segment, i), i + 1];
    if (c === BACKSLASH) {
      // Keep what came before the backslash; the escaped unit starts the next segment, and jumping over it
      // means an escaped `"` or `\` is never read as a delimiter. Any unit may be escaped (lenient: the RFC
      // allows HTAB / SP / VCHAR / obs-text only, but nothing is gained by rejecting the rest).
      value += s.slice(segment, i);
      segment = i + 1;
      i += 2;
    } else {
      i++;
    }
  }
  // `segment` is at most n: it is set just after a backslash that was inside the string.
  return [value + s.slice(segment), n];
}

/**
 * Skips a list element that cannot be read, up to (not past) the next comma that is outside a quoted-string,
 * as RFC 9110 section 5.6.1 lists are split: a comma inside quotes does not end an element.
 */
function skipElement(s: string, i: number): number {
  const n = s.length;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === COMMA) return i;
    if (c === DQUOTE) {
      i++;
      while (i < n) {
        const q = s.charCodeAt(i);
        if (q === BACKSLASH) i += 2;
        else if (q === DQUOTE) break;
        else i++;
      }
    }
    i++;
  }
  return n;
}

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
  const n = s.length;
  let current: Challenge | undefined;
  // False before the first challenge and after a token68: params there belong to no challenge.
  let acceptParams = false;
  let i = 0;

  while (i < n) {
    // Empty list elements and the OWS around commas (RFC 9110 section 5.6.1).
    let c = s.charCodeAt(i);
    while (c === COMMA || isOws(c)) c = s.charCodeAt(++i);
    if (i >= n) break;

    const start = i;
    const tokenEnd = scanToken(s, i);
    if (tokenEnd === start) {
      i = skipElement(s, start);
      continue;
    }
    const afterWs = skipOws(s, tokenEnd);

    if (s.charCodeAt(afterWs) === EQUALS) {
      // auth-param = token BWS "=" BWS ( token / quoted-string )
      let v = skipOws(s, afterWs + 1);
      let value: string;
      if (s.charCodeAt(v) === DQUOTE) {
        [value, v] = readQuoted(s, v + 1);
      } else {
        const valueStart = v;
        while (v < n && s.charCodeAt(v) !== COMMA && !isOws(s.charCodeAt(v))) v++;
        value = s.slice(valueStart, v);
      }
      if (current !== undefined && acceptParams) {
        const name = s.slice(start, tokenEnd).toLowerCase();
        if (!Object.hasOwn(current.params, name)) current.params[name] = value;
      }
      const after = skipOws(s, v);
      i = after >= n || s.charCodeAt(after) === COMMA ? after : skipElement(s, after);
      continue;
    }

    const next = s.charCodeAt(tokenEnd);
    if (tokenEnd < n && next !== COMMA && !isOws(next)) {
      // A token glued to something else (`foo/bar`, `foo"x"`): neither a scheme nor a param.
      i = skipElement(s, start);
      continue;
    }

    // A new challenge: auth-scheme [ 1*SP ( token68 / #auth-param ) ].
    current = { scheme: s.slice(start, tokenEnd).toLowerCase(), params: Object.create(null) as Record<string, string> };
    challenges.push(current);
    acceptParams = true;
    i = afterWs;
    if (i >= n || s.charCodeAt(i) === COMMA) continue;

    // token68 only when it fills the whole element: `abc=` followed by a comma is token68, `abc=def` a param.
    const token68End = scanToken68(s, i);
    if (token68End > i) {
      const after = skipOws(s, token68End);
      if (after >= n || s.charCodeAt(after) === COMMA) {
        current.token68 = s.slice(i, token68End);
        acceptParams = false;
        i = after;
        continue;
      }
    }
    // Otherwise the first element must be an auth-param, which the next turn of the loop reads. If it is not
    // (`Bearer foo bar`), skip it rather than take `foo` for a new scheme: it follows SP, not a comma.
    const nameEnd = scanToken(s, i);
    if (nameEnd === i || s.charCodeAt(skipOws(s, nameEnd)) !== EQUALS) i = skipElement(s, i);
  }
  return challenges;
}

const isBearerLike = (challenge: Challenge): boolean => challenge.scheme === 'bearer' || challenge.scheme === 'dpop';

/** Space-delimited lists (RFC 6749 section 3.3 scope, RFC 9470 acr_values, RFC 9449 algs); empty reads as absent. */
function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(/[ \t]+/).filter((item) => item.length > 0);
  return items.length > 0 ? items : undefined;
}

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
  if (chosen === undefined) return {};

  // hasOwn, not plain indexing: a hand-built Challenge may have an ordinary object whose `constructor` or
  // `toString` would otherwise read as a param.
  const { params } = chosen;
  const get = (name: string): string | undefined => {
    const value = Object.hasOwn(params, name) ? params[name] : undefined;
    return typeof value === 'string' ? value : undefined;
  };

  const summary: ChallengeSummary = { scheme: chosen.scheme };
  const error = get('error');
  if (error !== undefined) summary.error = error;
  const errorDescription = get('error_description');
  if (errorDescription !== undefined) summary.errorDescription = errorDescription;
  const scope = splitList(get('scope'));
  if (scope !== undefined) summary.scope = scope;
  const acrValues = splitList(get('acr_values'));
  if (acrValues !== undefined) summary.acrValues = acrValues;
  // RFC 9470 section 3: max_age is seconds since authentication, a non-negative integer (as in OIDC Core).
  const maxAge = get('max_age');
  if (maxAge !== undefined && /^[0-9]+$/.test(maxAge)) {
    const seconds = Number(maxAge);
    if (Number.isSafeInteger(seconds)) summary.maxAge = seconds;
  }
  const algs = splitList(get('algs'));
  if (algs !== undefined) summary.algs = algs;
  const realm = get('realm');
  if (realm !== undefined) summary.realm = realm;
  return summary;
}
