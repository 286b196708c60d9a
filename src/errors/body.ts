/**
 * Error bodies, read bounded: an error page can be huge, endless or stalled mid-body; reading it whole
 * (`response.text()`) would let a server hold a request open or fill memory.
 */
import { readBounded } from '../lib/read-body.js';

/** The most of an error body that is read, in bytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Read at most {@link MAX_ERROR_BODY_BYTES} of the body: from a clone (so `response` stays readable for the app)
 * unless `clone` is false (a response only authfetch reads, read once: happy-dom's `clone()` empties both copies).
 * JSON (`application/json`, `application/problem+json`, any `+json`) is parsed (text if it does not parse);
 * anything else is text. Any failure (already used, aborted stream, a stall past `timeoutMs`, invalid encoding)
 * and an empty body give `undefined`: it never rejects.
 * @internal
 */
export async function readErrorBody(response: Response, timeoutMs: number, clone = true): Promise<unknown> {
  let stream: ReadableStream<Uint8Array> | null;
  try {
    if (response.body === null || response.bodyUsed) return undefined;
    stream = clone ? response.clone().body : response.body;
  } catch {
    return undefined;
  }
  const read = await readBounded(stream, MAX_ERROR_BODY_BYTES, timeoutMs);
  if (!read || read.bytes.length === 0) return undefined;
  const contentType = response.headers.get('content-type') ?? '';
  let text: string;
  try {
    // `stream: true` for a cut body: a multi-byte character split at the limit is dropped, not an error.
    text = decoderFor(contentType).decode(read.bytes, { stream: !read.complete });
  } catch {
    return undefined;
  }
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  if (!/^(?:application|text)\/(?:[\w.!#$&^-]+\+)?json$/.test(mediaType)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function decoderFor(contentType: string): TextDecoder {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(contentType)?.[1] ?? 'utf-8';
  try {
    return new TextDecoder(charset, { fatal: true });
  } catch {
    // An unknown charset label: UTF-8 is what servers mean in practice.
    return new TextDecoder('utf-8', { fatal: true });
  }
}
