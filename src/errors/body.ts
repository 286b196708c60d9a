/**
 * The bounded reader of error bodies. An error page can be huge, endless or stalled mid-body; reading it whole
 * (`response.text()`) would let a server hold a request open or fill memory.
 */

/** The most of an error body that is read, in bytes. */
export const MAX_ERROR_BODY_BYTES = 64 * 1024;

/**
 * Read at most {@link MAX_ERROR_BODY_BYTES} of a clone of the body, so `response` stays readable for the app.
 * JSON (`application/json`, `application/problem+json`, any `+json`) is parsed (text if it does not parse);
 * anything else is text. Any failure (already used, aborted stream, a stall past `timeoutMs`, invalid encoding)
 * and an empty body give `undefined`: it never rejects.
 * @internal
 */
export async function readErrorBody(response: Response, timeoutMs: number): Promise<unknown> {
  let reader: ReadableStreamDefaultReader<Uint8Array>;
  try {
    if (response.body === null || response.bodyUsed) return undefined;
    const body = response.clone().body;
    if (body === null) return undefined;
    reader = body.getReader();
  } catch {
    return undefined;
  }

  const bytes = new Uint8Array(MAX_ERROR_BODY_BYTES);
  let size = 0;
  let complete = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
  });
  try {
    while (size < MAX_ERROR_BODY_BYTES) {
      const result = await Promise.race([reader.read(), deadline]);
      if (result === undefined) return undefined; // stalled past the deadline
      if (result.done) {
        complete = true;
        break;
      }
      const chunk = result.value.subarray(0, MAX_ERROR_BODY_BYTES - size);
      bytes.set(chunk, size);
      size += chunk.byteLength;
    }
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
    // Cancelling the clone's branch of the tee stops reading for us only; the original stays readable in full.
    if (!complete) reader.cancel().catch(() => undefined);
  }
  if (size === 0) return undefined;

  const contentType = response.headers.get('content-type') ?? '';
  let text: string;
  try {
    // `stream: true` for a cut body: a multi-byte character split at the limit is dropped, not an error.
    text = decoderFor(contentType).decode(bytes.subarray(0, size), { stream: !complete });
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
