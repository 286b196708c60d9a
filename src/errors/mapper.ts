/**
 * One typed error per response, for one client. The auth path builds the error for an event (`forbidden`,
 * `unauthorized`, `stepUp`) and `auth.http` builds it again to throw; remembering it per Response makes both the
 * same object and reads the error body once.
 */
import type { TokenSet } from '../types.js';
import { errorFromFailure, type FailedRequest } from './from-failure.js';
import { errorFromResponse, type RequestInfoLike } from './from-response.js';
import type { HttpError } from './http.js';

/** Memoizes response -> typed error for one client, and maps failures. */
export class ErrorMapper {
  #byResponse = new WeakMap<Response, Promise<HttpError>>();
  #sentWith = new WeakMap<Response, TokenSet | undefined>();
  #sessionActive: () => boolean;
  #localize: (error: unknown) => unknown;

  /**
   * @param sessionActive whether the client's session is active now: a final 401 says "your session has ended"
   *   only when it has
   * @param localize gives an error the app's `messages`, when it has any
   */
  constructor(sessionActive: () => boolean, localize: (error: unknown) => unknown = (error) => error) {
    this.#sessionActive = sessionActive;
    this.#localize = localize;
  }

  /**
   * Note the tokens a response answered: whether it carried any decides `missing-credentials`, and the access token
   * is what fields made from that response's text must never contain.
   */
  noteCredentials(response: Response, tokens: TokenSet | undefined): void {
    this.#sentWith.set(response, tokens);
  }

  /** The typed error for a non-2xx response, built once. */
  forResponse(response: Response, request: RequestInfoLike): Promise<HttpError> {
    let error = this.#byResponse.get(response);
    if (!error) {
      const sentWith = this.#sentWith;
      const tokens = sentWith.get(response);
      error = errorFromResponse(response, request, {
        credentialsSent: sentWith.has(response) ? tokens !== undefined : undefined,
        sessionActive: this.#sessionActive(),
        secrets: [tokens?.accessToken],
      }).then(this.#localize) as Promise<HttpError>;
      this.#byResponse.set(response, error);
    }
    return error;
  }

  /** The typed error for a failure without a response (see `errorFromFailure`). */
  forFailure(error: unknown, request: FailedRequest): unknown {
    return this.#localize(errorFromFailure(error, request));
  }
}
