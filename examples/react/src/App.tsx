/**
 * The page: who is signed in (useSession), a banner when the session ends (useAuthEvent), the sign-in form, and
 * calls of the example API through TanStack Query, each inside an error boundary that shows what went wrong.
 */
import { useQuery } from '@tanstack/react-query';
import { useAuth, useAuthEvent, useSession } from 'authfetch/react';
import { useState, type FormEvent, type ReactNode } from 'react';
import { signIn } from './auth';
import { ErrorBoundary } from './ErrorBoundary';

/** The example API's calls the page offers: one per kind of answer the UI must handle. */
const CALLS = {
  me: { label: 'Who am I', path: 'me' },
  item: { label: 'Item 1', path: 'items/1' },
  missing: { label: 'Item 999 (404)', path: 'items/999' },
  admin: { label: 'Admin area (403)', path: 'admin' },
  unavailable: { label: 'Unavailable (503)', path: 'status/503' },
} as const;
type CallName = keyof typeof CALLS;

function Result({ call }: { call: CallName }): ReactNode {
  const auth = useAuth();
  const { path } = CALLS[call];
  const { data } = useQuery({
    queryKey: ['api', path],
    queryFn: ({ signal }) => auth.http.get(path, { signal }).json<unknown>(),
    throwOnError: true,
  });
  if (data === undefined) return <p aria-busy="true">Loading…</p>;
  return <pre data-testid="result">{JSON.stringify(data, null, 2)}</pre>;
}

function SignInForm(): ReactNode {
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    setBusy(true);
    const result = await signIn(String(form.get('username')), String(form.get('password')));
    setBusy(false);
    setMessage(result.ok ? undefined : result.message);
  }
  return (
    <form onSubmit={submit} aria-label="Sign in">
      <label>
        User name <input name="username" autoComplete="username" defaultValue="alice" />
      </label>
      <label>
        Password <input name="password" type="password" autoComplete="current-password" />
      </label>
      <button type="submit" disabled={busy}>
        Sign in
      </button>
      {message && <p role="status">{message}</p>}
    </form>
  );
}

export function App(): ReactNode {
  const auth = useAuth();
  const session = useSession();
  const [ended, setEnded] = useState(false);
  const [call, setCall] = useState<CallName>();
  const [attempt, setAttempt] = useState(0);

  // The session ended (refresh rejected, idle, another tab): say so where the person looks.
  useAuthEvent('sessionExpired', () => setEnded(true));
  useAuthEvent('login', () => setEnded(false));

  const signedIn = session.status === 'active' || session.status === 'refreshing';
  return (
    <main>
      <header>
        <h1>authfetch with React</h1>
        <p>
          Session: <output data-testid="session-status">{session.status}</output>
        </p>
        {signedIn && (
          <button type="button" onClick={() => void auth.logout()}>
            Sign out
          </button>
        )}
      </header>
      {ended && !signedIn && (
        <p role="alert" data-testid="session-ended">
          Your session has ended. Please sign in again.
        </p>
      )}
      {!signedIn && <SignInForm />}
      {signedIn && (
        <section>
          <nav>
            {(Object.keys(CALLS) as CallName[]).map((name) => (
              <button
                type="button"
                key={name}
                data-call={name}
                onClick={() => {
                  setCall(name);
                  setAttempt((n) => n + 1);
                }}
              >
                {CALLS[name].label}
              </button>
            ))}
          </nav>
          {call && (
            // A new boundary per click: an earlier error does not stay on screen for the next call.
            <ErrorBoundary key={`${call}-${attempt}`} onSignIn={() => void auth.logout()}>
              <Result call={call} />
            </ErrorBoundary>
          )}
        </section>
      )}
    </main>
  );
}
