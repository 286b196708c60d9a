/**
 * The server's clock as seen from here. Responses' `Date` headers set the offset, so expiry (JWT `exp`, in the
 * issuer's clock) is judged by the server's time, not by a client clock that may be minutes off. The token
 * endpoint's `Date` wins: it is the clock of the server that issued the tokens. An API's `Date` counts only until
 * one of those was seen (tokens from `login()`), so an API whose clock disagrees with the issuer's cannot make every
 * fresh token look expired (a refresh per second of traffic, each spending a rotated refresh token).
 */

/** Tracks "server clock minus local clock" from `Date` headers. */
export class ServerClock {
  /** Server clock minus local clock, in ms; 0 until a `Date` header was seen. */
  offsetMs = 0;
  /** Whether any `Date` header has been seen: until then a JWT `exp` cannot be trusted to mean "expired". */
  known = false;
  #lastHeader: string | null = null;
  /** Whether a `Date` of the token endpoint (the issuer) was seen: from then on APIs' are not read. */
  #issuerKnown = false;
  /** `Date.now()` of the last {@link wantsDate} that said yes. */
  #lastRead = -Infinity;

  /**
   * Whether the next response's `Date` header is worth reading: at most once a second, since the header has
   * one-second resolution. (Reading a header on every response of a busy client is measurable; see bench/overhead.ts.)
   */
  wantsDate(): boolean {
    if (this.#issuerKnown) return false;
    const now = Date.now();
    // (A local clock set back makes this negative: read then too.)
    if (now - this.#lastRead < 1000 && now >= this.#lastRead) return false;
    this.#lastRead = now;
    return true;
  }

  /**
   * Learn from a response's `Date` header; `fromIssuer` for the token endpoint's. Cheap when the header repeats (the
   * common case within a second).
   */
  observe(dateHeader: string | null, fromIssuer = false): void {
    if (dateHeader === null || (this.#issuerKnown && !fromIssuer)) return;
    const firstFromIssuer = fromIssuer && !this.#issuerKnown;
    if (dateHeader === this.#lastHeader && !firstFromIssuer) return;
    this.#lastHeader = dateHeader;
    let offset = Date.parse(dateHeader) - Date.now();
    if (Number.isNaN(offset)) return;
    // `Date` has one-second resolution, so offsets under 1.5 s are noise and read as 0; and responses arrive with
    // latency: move only on a real change (> 2 s), so the offset does not jitter with every second boundary.
    if (Math.abs(offset) < 1500) offset = 0;
    if (!this.known || firstFromIssuer || Math.abs(offset - this.offsetMs) > 2000) this.offsetMs = offset;
    this.known = true;
    if (fromIssuer) this.#issuerKnown = true;
  }
}
