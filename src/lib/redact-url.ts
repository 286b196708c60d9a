/**
 * A URL fit for a message or a log line: without its query, fragment and user info, which can carry secrets
 * (`?access_token=`, `#id_token=`, `https://user:password@host`, RFC 3986 section 3.2.1). The path is kept, so the
 * URL still says which endpoint failed.
 *
 * @example
 * ```ts
 * redactUrl('https://user:pw@api.example/x?access_token=abc#frag'); // 'https://api.example/x'
 * ```
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.search = parsed.hash = parsed.username = parsed.password = '';
    return parsed.href;
  } catch {
    // A relative or malformed URL: cut by hand rather than show it whole.
    return url.split(/[?#]/)[0]!.replace(/^([a-z][a-z\d+.-]*:\/\/)[^/@]*@/i, '$1');
  }
}
