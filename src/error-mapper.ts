/**
 * One typed error per response. The auth path builds the error for an event (`forbidden`, `unauthorized`,
 * `stepUp`) and `auth.http` builds it again to throw; remembering it per Response makes both the same object and
 * reads the error body once.
 */
import { errorFromFailure, errorFromResponse, type HttpError, type RequestInfoLike } from './errors.js';

/** Memoizes response -> typed error, and maps failures. */
export class ErrorMapper {
  #byResponse = new WeakMap<Response, Promise<HttpError>>();
  #credentialsSent = new WeakMap<Response, boolean>();

  /** Note whether a response answered a request that carried the token (decides `missing-credentials`). */
  noteCredentials(response: Response, sent: boolean): void {
    this.#credentialsSent.set(response, sent);
  }

  /** The typed error for a non-2xx response, built once. */
  forResponse(response: Response, request: RequestInfoLike): Promise<HttpError> {
    let error = this.#byResponse.get(response);
    if (!error) {
      error = errorFromResponse(response, request, { credentialsSent: this.#credentialsSent.get(response) });
      this.#byResponse.set(response, error);
    }
    return error;
  }

  /** The typed error for a failure without a response (see `errorFromFailure`). */
  forFailure(error: unknown, request: RequestInfoLike): unknown {
    return errorFromFailure(error, request);
  }
}
