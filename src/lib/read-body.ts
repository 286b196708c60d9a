/**
 * Read at most `maxBytes` of a body stream, chunk by chunk, so that a huge, endless or stalled body can neither
 * fill memory nor hold the caller: the stream is cancelled at the limit, and `timeoutMs` (when given) bounds the
 * wait for each read. Any failure (a used or broken stream, the deadline) gives `undefined`; it never rejects.
 *
 * @returns the bytes read and whether the body ended within the limit (`complete`)
 * @example
 * ```ts
 * const read = await readBounded(response.body, 64 * 1024, 5_000);
 * if (read?.complete) JSON.parse(new TextDecoder().decode(read.bytes));
 * ```
 */
export async function readBounded(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  timeoutMs?: number,
): Promise<{ bytes: Uint8Array; complete: boolean } | undefined> {
  let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
  // Chunks are kept as they come and joined once: nothing the size of the limit is allocated for a short body (an
  // error body each of a thousand failing requests reads, say).
  const chunks: Uint8Array[] = [];
  let size = 0;
  let complete = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  // Without timeoutMs, a deadline that never comes.
  const deadline = new Promise<undefined>((resolve) => {
    // Called with no argument: undefined.
    if (timeoutMs !== undefined) timer = setTimeout(resolve as () => void, timeoutMs);
  });
  try {
    // No stream (`response.body` of an empty answer) is an empty, complete body.
    for (reader = stream?.getReader(), complete = !reader; !complete && size <= maxBytes; ) {
      const result = await Promise.race([reader!.read(), deadline]);
      if (!result) return undefined; // stalled past the deadline
      if (!(complete = result.done)) {
        chunks.push(result.value);
        size += result.value.byteLength;
      }
    }
  } catch {
    // A used or locked stream, or one that broke mid-body.
    return undefined;
  } finally {
    clearTimeout(timer);
    if (!complete) reader?.cancel().catch(() => undefined);
  }
  // Only the last chunk can reach past maxBytes (reading stops there): it is cut at the limit. A body of exactly
  // maxBytes that then ends is complete; one that went past it is cut.
  const bytes = new Uint8Array(Math.min(size, maxBytes));
  size = 0;
  for (const chunk of chunks) {
    bytes.set(chunk.subarray(0, bytes.length - size), size);
    size += chunk.byteLength;
  }
  return { bytes, complete: complete && size <= maxBytes };
}
