/**
 * Reading a response body with a size limit. `response.json()` and `.text()` read whatever a server sends, however
 * large; a hostile or broken endpoint can answer megabytes (or never stop), all of it buffered and parsed. This reads
 * at most `maxBytes`, then stops and cancels the rest (which also releases the connection).
 */

/**
 * The body as UTF-8 text (RFC 8259 section 8.1: JSON exchanged between systems is UTF-8), or `undefined` when it is
 * longer than `maxBytes` (by its `Content-Length`, or as it arrives), in which case reading stops there.
 * Rejects as the stream does (an abort of the request's signal ends the read), and with a TypeError when the bytes
 * are not UTF-8.
 *
 * @example
 * ```ts
 * const text = await readBoundedText(response, 256 * 1024);
 * if (text === undefined) throw new Error('the answer is too large');
 * ```
 */
export async function readBoundedText(response: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  const body = response.body;
  if (declared > maxBytes) {
    await body?.cancel().catch(() => undefined);
    return undefined;
  }
  if (body === null) return '';
  const reader = body.getReader();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let size = 0;
  let text = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return text + decoder.decode();
      size += value.byteLength;
      if (size > maxBytes) {
        reader.cancel().catch(() => undefined);
        return undefined;
      }
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    reader.cancel().catch(() => undefined);
    throw error;
  } finally {
    reader.releaseLock();
  }
}
