/**
 * Error bodies, read bounded: an error page can be huge, endless or stalled mid-body; reading it whole
 * (`response.text()`) would let a server hold a request open or fill memory.
 */
import { readBounded } from '../lib/read-body.js';

/** The most of an error body that is read, in bytes. */
export const MAX_ERROR_BODY_BYTES = 65_536; // 64 KiB

/**
 * Read at most {@link MAX_ERROR_BODY_BYTES} of the body: from a clone (so `response` stays readable for the app)
 * unless `clone` is false (a response only authfetch reads, read once: happy-dom's `clone()` empties both copies).
 * JSON (`application/json`, `application/problem+json`, any `+json`) is parsed (text if it does not parse);
 * anything else is text. Any failure (already used, aborted stream, a stall past `timeoutMs`, invalid encoding)
 * and an empty body give `undefined`: it never rejects.
 * @internal
 */
export async function readErrorBody(response: Response, timeoutMs: number, clone = true): Promise<unknown> {
  let read: Awaited<ReturnType<typeof readBounded>>;
  try {
    // A used body cannot be read again, nor cloned; clone() also throws for a body being read.
    if (!response.bodyUsed) read = await readBounded(clone ? response.clone().body : response.body, MAX_ERROR_BODY_BYTES, timeoutMs);
  } catch {
    return undefined;
  }
  if (!read?.bytes.length) return undefined;
  const contentType = response.headers.get('content-type') ?? '';
  // No charset: no label, which TextDecoder reads as UTF-8.
  const label = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  let decoder: TextDecoder;
  try {
    decoder = new TextDecoder(label, { fatal: true });
  } catch {
    // An unknown charset label: UTF-8 is what servers mean in practice.
    decoder = new TextDecoder('utf-8', { fatal: true });
  }
  let text: string;
  try {
    // `stream: true` for a cut body: a multi-byte character split at the limit is dropped, not an error.
    text = decoder.decode(read.bytes, { stream: !read.complete });
  } catch {
    return undefined;
  }
  try {
    if (/^(?:application|text)\/(?:[\w.!#$&^-]+\+)?json$/i.test(contentType.split(';')[0]!.trim())) return JSON.parse(text) as unknown;
  } catch {
    // Not JSON after all: the text.
  }
  return text;
}
