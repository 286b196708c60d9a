/**
 * Popup sign-in. The window is opened synchronously inside the app's click handler (browsers allow popups only from a
 * user gesture, and building the authorization URL needs awaits: hashing the PKCE verifier, discovery), first blank,
 * then sent to the provider. The provider redirects the popup to the app's redirect URI, where `handleRedirect()`
 * hands the response back over a BroadcastChannel (it works whether or not the provider's pages severed
 * `window.opener` with Cross-Origin-Opener-Policy) and closes the window once this page acknowledged it. This page
 * alone holds the PKCE verifier, so it alone exchanges the code, and its state (held requests included) survives.
 */
import { SignInError } from '../errors/index.js';

/** The window name of the sign-in popup: a second sign-in reuses the window rather than opening another. */
const POPUP_NAME = 'authfetch-signin';
/** How often a closed popup is looked for, and how long after it closed a late response is still awaited. */
const CLOSED_POLL_MS = 250;
const CLOSED_GRACE_MS = 1000;
/** How long a popup waits for its opener to acknowledge the response before treating it as a stray one. */
export const HANDOVER_TIMEOUT_MS = 2000;

/**
 * Whether this window may be a sign-in popup: it was opened by another page, or carries the popup's name (kept even
 * where Cross-Origin-Opener-Policy on the provider's pages severed `window.opener`).
 */
export function mayBePopup(win: Window): boolean {
  let opener: unknown = null;
  try {
    opener = win.opener;
  } catch {
    opener = null;
  }
  return opener !== null || win.name === POPUP_NAME;
}

/** The messages on the sign-in channel. Plain data; the code travels only within this origin. */
type HandoverMessage = { type: 'response'; state: string; search: string } | { type: 'ack'; state: string };

/** The opener's side of one popup sign-in. */
export class SignInPopup {
  readonly #window: Window;
  /** Ends the wait: with the response, or (without one) with `error`. */
  #settle: ((params: URLSearchParams | undefined, error?: unknown) => void) | undefined;
  #cleanup: (() => void) | undefined;

  private constructor(popup: Window) {
    this.#window = popup;
  }

  /** Open the (blank) popup now, in the user's gesture; `popup-blocked` when the browser refuses. */
  static open(win: Window): SignInPopup {
    let popup: Window | null = null;
    try {
      popup = win.open('', POPUP_NAME, 'popup,width=500,height=640');
    } catch {
      popup = null;
    }
    if (!popup) throw new SignInError('The browser blocked the popup', { reason: 'popup-blocked' });
    return new SignInPopup(popup);
  }

  /** Send the popup to the provider. */
  navigate(url: URL): void {
    this.#window.location.href = url.href;
  }

  /**
   * The authorization response for `state`, once the popup hands it over. Rejects with `popup-closed` when the window
   * is closed first, or with `error` when {@link cancel} is called.
   */
  waitForResponse(channelName: string, state: string): Promise<URLSearchParams> {
    return new Promise<URLSearchParams>((resolve, reject) => {
      const channel = new BroadcastChannel(channelName);
      let closedSince: number | undefined;
      const poll = setInterval(() => {
        if (!this.#window.closed) return;
        // The popup closes itself right after handing over: give a response already on its way time to arrive.
        closedSince ??= Date.now();
        if (Date.now() - closedSince >= CLOSED_GRACE_MS) this.cancel(new SignInError('The popup was closed', { reason: 'popup-closed' }));
      }, CLOSED_POLL_MS);
      this.#cleanup = () => {
        clearInterval(poll);
        channel.close();
      };
      this.#settle = (params, error) => {
        this.#settle = undefined;
        this.#cleanup?.();
        if (params) resolve(params);
        else reject(error);
      };
      channel.onmessage = ({ data }: MessageEvent<HandoverMessage>) => {
        if (data?.type !== 'response' || data.state !== state || typeof data.search !== 'string') return;
        channel.postMessage({ type: 'ack', state } satisfies HandoverMessage);
        this.#settle?.(new URLSearchParams(data.search));
      };
    });
  }

  /** Give up on this popup (a newer sign-in replaced it). */
  cancel(error: unknown): void {
    this.#settle?.(undefined, error);
  }

  /** Close the window (it normally closes itself after handing over). */
  close(): void {
    this.#cleanup?.();
    try {
      if (!this.#window.closed) this.#window.close();
    } catch {
      // a window we can no longer reach
    }
  }
}

/**
 * In a popup: hand an authorization response this page has no transaction for to the page that opened the sign-in.
 * Resolves `true` once that page acknowledged it (then closes this window), `false` when no page claims it (it is
 * then no popup response: a stray or forged one, or one whose sign-in page is gone).
 */
export function handOverToOpener(win: Window, channelName: string, state: string, search: string): Promise<boolean> {
  if (typeof BroadcastChannel === 'undefined') return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const channel = new BroadcastChannel(channelName);
    const done = (claimed: boolean) => {
      clearTimeout(timer);
      channel.close();
      if (claimed) win.close();
      resolve(claimed);
    };
    const timer = setTimeout(() => done(false), HANDOVER_TIMEOUT_MS);
    channel.onmessage = (event: MessageEvent<HandoverMessage>) => {
      if (event.data?.type === 'ack' && event.data.state === state) done(true);
    };
    channel.postMessage({ type: 'response', state, search } satisfies HandoverMessage);
  });
}
