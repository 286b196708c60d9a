/**
 * The origin check decides where the token may go, so its fast path (a prefix test that skips URL parsing) must
 * agree with the URL parser on every URL an attacker could shape: userinfo, ports, longer hosts, backslashes,
 * whitespace, case.
 */
import { describe, expect, it } from 'vitest';
import { createOriginMatcher, originOf } from '../src/origins.js';

const rules = ['https://api.example.com', 'http://127.0.0.1:8080/v1'];
const isAuthorized = createOriginMatcher(rules);
const allowed = new Set(rules.map((r) => originOf(r)));

const urls = [
  'https://api.example.com',
  'https://api.example.com/',
  'https://api.example.com/me?x=1#y',
  'https://api.example.com?x',
  'https://api.example.com#frag',
  'https://api.example.com@evil.com/',
  'https://api.example.com.evil.com/',
  'https://api.example.com:443/',
  'https://api.example.com:8443/',
  'https://api.example.com\\@evil.com/',
  'https://api.example.com\t.evil.com/',
  'https://api.example.comevil.com/',
  'HTTPS://API.EXAMPLE.COM/me',
  'http://api.example.com/',
  ' https://api.example.com/',
  'https://evil.com/https://api.example.com/',
  'http://127.0.0.1:8080/v2/x',
  'http://127.0.0.1:80801/',
  'http://127.0.0.1:8080@evil.com/',
  'http://127.0.0.1/',
  'data:text/plain,https://api.example.com/',
  'not a url',
];

describe('createOriginMatcher', () => {
  it.each(urls)('agrees with the URL parser for %j', (url) => {
    const origin = originOf(url);
    expect(isAuthorized(url)).toBe(origin !== undefined && allowed.has(origin));
  });

  it('never authorizes a host that merely starts like an authorized one', () => {
    expect(isAuthorized('https://api.example.com@evil.com/')).toBe(false);
    expect(isAuthorized('https://api.example.com.evil.com/')).toBe(false);
    expect(isAuthorized('https://api.example.comevil.com/')).toBe(false);
  });

  it('tests RegExp rules against the origin only, and a global flag does not make it alternate', () => {
    const match = createOriginMatcher([/^https:\/\/[a-z]+\.example\.com$/g]);
    expect(match('https://a.example.com/x')).toBe(true);
    expect(match('https://a.example.com/x')).toBe(true);
    expect(match('https://a.example.com.evil.com/')).toBe(false);
  });
});
