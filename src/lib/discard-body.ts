/**
 * Let go of a response body that will not be read, without waiting for it. `body.cancel()` frees the connection,
 * but its promise may never settle: msw's mocked responses (mswjs/interceptors#799) and a response whose clone was
 * left unread (the tee of mswjs/interceptors#712) both hang it. A request must not hang on housekeeping, so the
 * cancel runs on its own and its outcome is ignored.
 */
export function discardBody(response: Response): void {
  response.body?.cancel().catch(() => undefined);
}
