import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { parseChallenges, summarizeChallenges, type Challenge } from '../src/challenge.js';

/** Builds the expected shape of a challenge with a null-prototype params object, as the parser returns. */
function ch(scheme: string, params: Record<string, string> = {}, token68?: string): Challenge {
  const p = Object.assign(Object.create(null) as Record<string, string>, params);
  return token68 === undefined ? { scheme, params: p } : { scheme, params: p, token68 };
}

/** Compares challenges as plain data (toEqual treats null-prototype objects like plain ones). */
function plain(challenges: Challenge[]): unknown {
  return challenges.map((c) => ({ ...c, params: { ...c.params } }));
}

describe('parseChallenges: RFC 9110 / RFC 7235 examples', () => {
  it('reads the RFC 9110 section 11.6.1 example with two challenges and an escaped quote', () => {
    const header = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"';
    expect(parseChallenges(header)).toEqual([
      ch('newauth', { realm: 'apps', type: '1', title: 'Login to "apps"' }),
      ch('basic', { realm: 'simple' }),
    ]);
  });

  it('reads a Basic challenge with charset (RFC 7617 section 2.1)', () => {
    expect(parseChallenges('Basic realm="foo", charset="UTF-8"')).toEqual([
      ch('basic', { realm: 'foo', charset: 'UTF-8' }),
    ]);
  });

  it('reads a scheme with no params as a challenge with empty params', () => {
    const [only, ...rest] = parseChallenges('Negotiate');
    expect(rest).toEqual([]);
    expect(only).toEqual(ch('negotiate'));
    expect(only?.token68).toBeUndefined();
    expect(parseChallenges('Negotiate, NTLM')).toEqual([ch('negotiate'), ch('ntlm')]);
  });

  it('reads token68, also followed by another challenge', () => {
    expect(parseChallenges('Negotiate abc==')).toEqual([ch('negotiate', {}, 'abc==')]);
    expect(parseChallenges('Negotiate YIIB+/x-._~, Basic realm="r"')).toEqual([
      ch('negotiate', {}, 'YIIB+/x-._~'),
      ch('basic', { realm: 'r' }),
    ]);
    // token68 keeps its case; `abc=` alone is a token68, not an auth-param with an empty value.
    expect(parseChallenges('NTLM TlRMTVNTUAAB=')).toEqual([ch('ntlm', {}, 'TlRMTVNTUAAB=')]);
    expect(parseChallenges('Scheme abc=, Other')).toEqual([ch('scheme', {}, 'abc='), ch('other')]);
  });

  it('accepts BWS around "=" and OWS around commas', () => {
    expect(parseChallenges('Basic realm = "x" ,  charset\t=\tUTF-8 ')).toEqual([
      ch('basic', { realm: 'x', charset: 'UTF-8' }),
    ]);
  });

  it('accepts empty list elements', () => {
    expect(parseChallenges(', ,Basic realm="x", , ,  charset=UTF-8,, , Bearer ,,')).toEqual([
      ch('basic', { realm: 'x', charset: 'UTF-8' }),
      ch('bearer'),
    ]);
  });

  it('is case-insensitive for schemes and param names, keeping the case of values', () => {
    expect(parseChallenges('BEARER Realm="Example", ERROR=Invalid_Token, dPoP ALGS="ES256"')).toEqual([
      ch('bearer', { realm: 'Example', error: 'Invalid_Token' }),
      ch('dpop', { algs: 'ES256' }),
    ]);
  });

  it('keeps the first occurrence of a duplicate param name (case-insensitively)', () => {
    expect(parseChallenges('Bearer realm="first", REALM="second", realm=third')).toEqual([
      ch('bearer', { realm: 'first' }),
    ]);
  });

  it('unescapes quoted-pairs and keeps commas and "=" inside quoted strings', () => {
    expect(parseChallenges('X a="x\\\\y\\"z\\q", b="1, 2=3", c=""')).toEqual([
      ch('x', { a: 'x\\y"zq', b: '1, 2=3', c: '' }),
    ]);
  });

  it('reads several header values joined with ", "', () => {
    const joined = ['Bearer realm="api"', 'DPoP algs="ES256"'].join(', ');
    expect(parseChallenges(joined)).toEqual([ch('bearer', { realm: 'api' }), ch('dpop', { algs: 'ES256' })]);
  });

  it('returns [] for null, undefined, empty and blank input', () => {
    expect(parseChallenges(null)).toEqual([]);
    expect(parseChallenges(undefined)).toEqual([]);
    expect(parseChallenges('')).toEqual([]);
    expect(parseChallenges('  , ,\t')).toEqual([]);
    // JavaScript callers may pass anything.
    expect(parseChallenges(42 as unknown as string)).toEqual([]);
  });
});

describe('parseChallenges: RFC 6750 section 3 (Bearer)', () => {
  it('reads a bare realm', () => {
    expect(parseChallenges('Bearer realm="example"')).toEqual([ch('bearer', { realm: 'example' })]);
  });

  it('reads an expired token', () => {
    expect(
      parseChallenges('Bearer realm="example", error="invalid_token", error_description="The access token expired"'),
    ).toEqual([ch('bearer', { realm: 'example', error: 'invalid_token', error_description: 'The access token expired' })]);
  });

  it('reads insufficient_scope with a scope', () => {
    const header = 'Bearer realm="example", error="insufficient_scope", scope="openid profile email"';
    expect(parseChallenges(header)).toEqual([
      ch('bearer', { realm: 'example', error: 'insufficient_scope', scope: 'openid profile email' }),
    ]);
    expect(summarizeChallenges(parseChallenges(header))).toEqual({
      scheme: 'bearer',
      realm: 'example',
      error: 'insufficient_scope',
      scope: ['openid', 'profile', 'email'],
    });
  });
});

describe('parseChallenges: RFC 9470 (step-up)', () => {
  it('reads insufficient_user_authentication with acr_values', () => {
    const header =
      'Bearer error="insufficient_user_authentication", error_description="A different authentication level is required", acr_values="myACR"';
    expect(parseChallenges(header)).toEqual([
      ch('bearer', {
        error: 'insufficient_user_authentication',
        error_description: 'A different authentication level is required',
        acr_values: 'myACR',
      }),
    ]);
    expect(summarizeChallenges(parseChallenges(header))).toEqual({
      scheme: 'bearer',
      error: 'insufficient_user_authentication',
      errorDescription: 'A different authentication level is required',
      acrValues: ['myACR'],
    });
  });

  it('reads max_age', () => {
    const header =
      'Bearer error="insufficient_user_authentication", error_description="More recent authentication is required", max_age="5"';
    expect(summarizeChallenges(parseChallenges(header))).toMatchObject({
      error: 'insufficient_user_authentication',
      maxAge: 5,
    });
    expect(summarizeChallenges(parseChallenges('Bearer max_age=0')).maxAge).toBe(0);
    expect(summarizeChallenges(parseChallenges('Bearer acr_values="urn:a  urn:b"')).acrValues).toEqual(['urn:a', 'urn:b']);
  });

  it('drops a max_age that is not a non-negative integer', () => {
    for (const bad of ['-1', '1.5', '1e3', ' 5', 'abc', '', '99999999999999999999', '0x10']) {
      const summary = summarizeChallenges([ch('bearer', { max_age: bad })]);
      expect(summary.maxAge, bad).toBeUndefined();
    }
  });
});

describe('parseChallenges: RFC 9449 (DPoP)', () => {
  it('reads use_dpop_nonce with algs', () => {
    const header = 'DPoP algs="ES256 PS256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"';
    expect(parseChallenges(header)).toEqual([
      ch('dpop', {
        algs: 'ES256 PS256',
        error: 'use_dpop_nonce',
        error_description: 'Resource server requires nonce in DPoP proof',
      }),
    ]);
    expect(summarizeChallenges(parseChallenges(header))).toEqual({
      scheme: 'dpop',
      algs: ['ES256', 'PS256'],
      error: 'use_dpop_nonce',
      errorDescription: 'Resource server requires nonce in DPoP proof',
    });
  });

  it('reads a header with both Bearer and DPoP challenges (RFC 9449 section 7.2)', () => {
    const header = 'Bearer realm="api", error="invalid_token", DPoP realm="api", algs="ES256 PS256", error="invalid_dpop_proof"';
    expect(parseChallenges(header)).toEqual([
      ch('bearer', { realm: 'api', error: 'invalid_token' }),
      ch('dpop', { realm: 'api', algs: 'ES256 PS256', error: 'invalid_dpop_proof' }),
    ]);
  });
});

describe('parseChallenges: malformed and hostile input', () => {
  it('takes the rest of the header as the value of an unterminated quoted string', () => {
    expect(parseChallenges('Bearer realm="api", error_description="cut off, Basic realm=x')).toEqual([
      ch('bearer', { realm: 'api', error_description: 'cut off, Basic realm=x' }),
    ]);
    // A lone trailing backslash escapes nothing and is dropped.
    expect(parseChallenges('Bearer a="x\\')).toEqual([ch('bearer', { a: 'x' })]);
  });

  it('keeps lenient unquoted values whole', () => {
    expect(parseChallenges('Bearer resource_metadata=https://x.example/a?b=c, nonce=abc==')).toEqual([
      ch('bearer', { resource_metadata: 'https://x.example/a?b=c', nonce: 'abc==' }),
    ]);
    // An empty unquoted value is kept as '' (the grammar wants a token; nothing is gained by dropping it) ...
    expect(parseChallenges('Bearer x=y, a=, b=c')).toEqual([ch('bearer', { x: 'y', a: '', b: 'c' })]);
    // ... except as the first element, where `a=` alone is a token68 (RFC 9110 section 11.6.1).
    expect(parseChallenges('Bearer a=, b=c')).toEqual([ch('bearer', {}, 'a=')]);
  });

  it('skips unreadable elements up to the next comma outside quotes and goes on', () => {
    // Params before any challenge belong to nothing.
    expect(parseChallenges('realm="x", Basic realm="y"')).toEqual([ch('basic', { realm: 'y' })]);
    // An element that is not a token; a comma inside its quotes does not end it.
    expect(parseChallenges('"junk, more", Basic realm="y"')).toEqual([ch('basic', { realm: 'y' })]);
    // A token glued to a non-token character.
    expect(parseChallenges('foo/bar, Basic')).toEqual([ch('basic')]);
    // Text after a value.
    expect(parseChallenges('Basic realm="x" junk "a,b", charset=UTF-8')).toEqual([
      ch('basic', { realm: 'x', charset: 'UTF-8' }),
    ]);
    // A first element that is neither token68 nor an auth-param is skipped, not taken as a scheme.
    expect(parseChallenges('Bearer foo bar, realm="x", Basic')).toEqual([ch('bearer', { realm: 'x' }), ch('basic')]);
    // A scheme glued to "=" is not a challenge.
    expect(parseChallenges('a=a=a')).toEqual([]);
  });

  it('drops params after a token68, and attaches params after a bare scheme to it', () => {
    expect(parseChallenges('Negotiate abc, realm="x", Basic')).toEqual([ch('negotiate', {}, 'abc'), ch('basic')]);
    expect(parseChallenges('Basic, realm="x"')).toEqual([ch('basic', { realm: 'x' })]);
  });

  it('handles control characters and unicode', () => {
    expect(parseChallenges('Bearer realm="caf\u00e9 \u{1F512}\u0000\u0007", error=\u00fcber')).toEqual([
      ch('bearer', { realm: 'caf\u00e9 \u{1F512}\u0000\u0007', error: '\u00fcber' }),
    ]);
    // Non-ASCII is not tchar, so it cannot start a scheme.
    expect(parseChallenges('B\u00e4sic realm="x", Basic')).toEqual([ch('basic')]);
    expect(parseChallenges('\u0000\u0001, Basic\r\n')).toEqual([]);
  });

  it('is prototype-safe', () => {
    const [c] = parseChallenges('Bearer __proto__="polluted", constructor=x, toString=y, hasOwnProperty=z');
    expect(c).toBeDefined();
    const params = c!.params;
    expect(Object.getPrototypeOf(params)).toBeNull();
    expect(Object.keys(params)).toEqual(['__proto__', 'constructor', 'tostring', 'hasownproperty']);
    expect(params['__proto__']).toBe('polluted');
    expect(params['constructor']).toBe('x');
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
    // A missing param reads as undefined, not as an inherited member.
    expect(parseChallenges('Bearer')[0]!.params['constructor']).toBeUndefined();
  });

  const hostile: Array<[string, string]> = [
    ['100 KB of commas', ','.repeat(100_000)],
    ['100 KB of ", "', ', '.repeat(50_000)],
    ['an unterminated quote over 100 KB', 'Bearer realm="' + 'a'.repeat(100_000)],
    ['100 KB of quotes', '"'.repeat(100_000)],
    ['100 KB of backslashes in a quote', 'Bearer realm="' + '\\'.repeat(100_000)],
    ['100 KB of a=', 'a='.repeat(50_000)],
    ['a scheme then 100 KB of a=', 'Bearer ' + 'a='.repeat(50_000)],
    ['deep a=a=a=', 'Bearer x=' + 'a='.repeat(50_000) + 'a'],
    ['100 KB of a=, elements', 'Bearer ' + 'a=,'.repeat(33_000)],
    ['100 KB of "a " tokens', 'a '.repeat(50_000)],
    ['100 KB of "a, " challenges', 'a, '.repeat(33_000)],
    ['100 KB of whitespace inside an element', 'Bearer a' + ' '.repeat(100_000) + 'b'],
    ['a long token68 that is not one', 'Bearer ' + 'a'.repeat(100_000) + '=b'],
    ['100 KB of "="', 'Bearer ' + '='.repeat(100_000)],
    ['many quoted params', 'Bearer ' + 'a="x", '.repeat(14_000)],
    ['alternating quotes and commas', '",'.repeat(50_000)],
  ];
  for (const [name, input] of hostile) {
    it(`finishes fast on ${name}`, () => {
      const started = performance.now();
      const result = parseChallenges(input);
      const elapsed = performance.now() - started;
      expect(Array.isArray(result)).toBe(true);
      // Generous: catches quadratic blow-ups (seconds at this size), not ordinary jitter.
      expect(elapsed).toBeLessThan(500);
    });
  }

  it('gives sensible results on some hostile inputs', () => {
    expect(parseChallenges(','.repeat(100_000))).toEqual([]);
    expect(parseChallenges('a, '.repeat(1000))).toHaveLength(1000);
    expect(plain(parseChallenges('Bearer x=' + 'a='.repeat(1000) + 'a'))).toEqual([
      { scheme: 'bearer', params: { x: 'a='.repeat(1000) + 'a' } },
    ]);
  });
});

describe('summarizeChallenges', () => {
  it('returns {} without challenges', () => {
    expect(summarizeChallenges([])).toEqual({});
  });

  it('prefers the first bearer/dpop challenge carrying an error', () => {
    const challenges = parseChallenges(
      'Basic realm="b", Bearer realm="first", DPoP realm="second", error="use_dpop_nonce", Bearer error="invalid_token"',
    );
    expect(summarizeChallenges(challenges)).toEqual({ scheme: 'dpop', realm: 'second', error: 'use_dpop_nonce' });
  });

  it('falls back to the first bearer/dpop challenge, then to the first challenge', () => {
    expect(summarizeChallenges(parseChallenges('Basic realm="b", DPoP algs="ES256", Bearer realm="x"'))).toEqual({
      scheme: 'dpop',
      algs: ['ES256'],
    });
    // An error on a non-bearer challenge does not win over a bearer one.
    expect(summarizeChallenges(parseChallenges('Newauth error="x", Bearer realm="r"'))).toEqual({
      scheme: 'bearer',
      realm: 'r',
    });
    expect(summarizeChallenges(parseChallenges('Basic realm="b", Negotiate'))).toEqual({ scheme: 'basic', realm: 'b' });
  });

  it('omits empty lists and reads only own params', () => {
    expect(summarizeChallenges(parseChallenges('Bearer scope="", acr_values="  ", algs=""'))).toEqual({ scheme: 'bearer' });
    // A hand-built challenge with an ordinary params object: inherited members are not params.
    expect(summarizeChallenges([{ scheme: 'bearer', params: {} }])).toEqual({ scheme: 'bearer' });
  });
});

// ---------------------------------------------------------------------------------------------------------
// Property-based tests
// ---------------------------------------------------------------------------------------------------------

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
const TOKEN68_CHARS = '-._~+/0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
const tokenRe = /^[!#$%&'*+\-.^_`|~0-9a-zA-Z]+$/;
const lowerTokenRe = /^[!#$%&'*+\-.^_`|~0-9a-z]+$/;
const token68Re = /^[-._~+/0-9a-zA-Z]+=*$/;

const token = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 12 });
const token68 = fc
  .tuple(fc.string({ unit: fc.constantFrom(...TOKEN68_CHARS), minLength: 1, maxLength: 40 }), fc.integer({ min: 0, max: 2 }))
  .map(([body, pad]) => body + '='.repeat(pad));
/** Printable values: ASCII (with quotes and backslashes likely) and any unicode grapheme. */
const value = fc.oneof(
  fc.string({ unit: 'grapheme-ascii', maxLength: 30 }),
  fc.string({ unit: fc.constantFrom('"', '\\', ',', '=', ' ', 'a', 'Z', '\t'), maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 12 }),
  token,
);
const ows = fc.constantFrom('', ' ', '  ', '\t');

interface Generated {
  scheme: string;
  params: Array<[string, string]>;
  token68?: string;
}
/** Param names, with the ones that would pollute or shadow an ordinary object made likely. */
const paramName = fc.oneof(token, fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', '__PROTO__'));
const generatedChallenge: fc.Arbitrary<Generated> = fc.oneof(
  fc.record({ scheme: token, params: fc.array(fc.tuple(paramName, value), { maxLength: 5 }) }),
  fc.record({ scheme: token, params: fc.constant([] as Array<[string, string]>), token68 }),
);

/** Serializes a value as a token when it is one, else as a quoted-string with `"` and `\` escaped. */
function serializeValue(v: string, forceQuotes: boolean): string {
  if (!forceQuotes && tokenRe.test(v)) return v;
  return '"' + v.replace(/["\\]/g, (m) => '\\' + m) + '"';
}

describe('parseChallenges: properties', () => {
  it('never throws and returns well-formed challenges for arbitrary strings', () => {
    const alphabet = fc.constantFrom('a', 'B', '=', ',', ' ', '\t', '"', '\\', '/', '+', '_', '\u0000', '\u00e9', '\u{1F512}');
    const input = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.string({ unit: alphabet, maxLength: 200 }),
      fc.string({ unit: 'grapheme-ascii', maxLength: 200 }),
    );
    fc.assert(
      fc.property(input, (header) => {
        const result = parseChallenges(header);
        expect(Array.isArray(result)).toBe(true);
        for (const c of result) {
          expect(c.scheme).toMatch(lowerTokenRe);
          expect(Object.getPrototypeOf(c.params)).toBeNull();
          for (const [name, v] of Object.entries(c.params)) {
            expect(name).toMatch(lowerTokenRe);
            expect(typeof v).toBe('string');
          }
          if (c.token68 !== undefined) {
            expect(c.token68).toMatch(token68Re);
            expect(Object.keys(c.params)).toEqual([]);
          }
          expect(Object.keys(c).sort()).toEqual(c.token68 === undefined ? ['params', 'scheme'] : ['params', 'scheme', 'token68']);
        }
        // summarizeChallenges must never throw on what the parser returns either.
        const summary = summarizeChallenges(result);
        expect(typeof summary).toBe('object');
        if (summary.maxAge !== undefined) expect(Number.isSafeInteger(summary.maxAge) && summary.maxAge >= 0).toBe(true);
      }),
      { numRuns: 2000 },
    );
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('round-trips serialized challenges', () => {
    fc.assert(
      fc.property(
        fc.array(generatedChallenge, { minLength: 1, maxLength: 5 }),
        fc.infiniteStream(fc.tuple(ows, ows, fc.boolean(), fc.boolean())),
        (generated, layout) => {
          const cursor = layout[Symbol.iterator]();
          const next = () => cursor.next().value as [string, string, boolean, boolean];
          const parts = generated.map((g) => {
            if (g.token68 !== undefined) return `${g.scheme} ${g.token68}`;
            if (g.params.length === 0) return g.scheme;
            const params = g.params.map(([name, v]) => {
              const [before, after, forceQuotes] = next();
              return `${name}${before}=${after}${serializeValue(v, forceQuotes)}`;
            });
            return `${g.scheme} ` + params.map((p) => {
              const [before, after, , emptyElement] = next();
              return emptyElement ? `${p}${before},${after}` : p;
            }).join(', ');
          });
          const header = parts.join(', ');

          const expected = generated.map((g) => {
            // Null-prototype, or `params['__proto__'] = v` would set the prototype instead of a key.
            const params = Object.create(null) as Record<string, string>;
            for (const [name, v] of g.params) {
              const key = name.toLowerCase();
              if (!Object.hasOwn(params, key)) params[key] = v;
            }
            return g.token68 === undefined
              ? { scheme: g.scheme.toLowerCase(), params }
              : { scheme: g.scheme.toLowerCase(), params, token68: g.token68 };
          });
          expect(plain(parseChallenges(header))).toEqual(plain(expected));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('finishes fast on 100 KB of any short repeated pattern', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', '=', ',', ' ', '"', '\\', 'B'), minLength: 1, maxLength: 8 }), (pattern) => {
        const input = pattern.repeat(Math.ceil(100_000 / pattern.length));
        const started = performance.now();
        parseChallenges(input);
        expect(performance.now() - started).toBeLessThan(500);
      }),
      { numRuns: 50 },
    );
  });
});
