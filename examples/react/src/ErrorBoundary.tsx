/**
 * Shows a failed query as the person using the app should see it: authfetch's `userMessage` and a button for its
 * `action`, never the technical `message`. TanStack Query throws the error here (`throwOnError`); "Try again" resets
 * the query and the boundary together.
 */
import { QueryErrorResetBoundary } from '@tanstack/react-query';
import { isAuthFetchError, type UserAction } from 'authfetch';
import { Component, type ReactNode } from 'react';

interface BoundaryProps {
  children: ReactNode;
  onReset: () => void;
  onSignIn: () => void;
}

interface BoundaryState {
  error: unknown;
}

const ACTION_LABELS: Record<UserAction, string | undefined> = {
  'sign-in': 'Sign in',
  retry: 'Try again',
  'request-access': 'Request access',
  'go-back': 'Go back',
  'check-connection': 'Try again',
  'contact-support': 'Contact support',
  none: undefined,
};

class Boundary extends Component<BoundaryProps, BoundaryState> {
  override state: BoundaryState = { error: undefined };

  static getDerivedStateFromError(error: unknown): BoundaryState {
    return { error };
  }

  #act(action: UserAction): void {
    if (action === 'sign-in') this.props.onSignIn();
    else if (action === 'request-access') window.alert('An access request was sent to your administrator.');
    else if (action === 'contact-support') window.open('mailto:support@example.com');
    else if (action === 'go-back') window.history.back();
    if (action === 'retry' || action === 'check-connection' || action === 'go-back') this.#reset();
  }

  #reset(): void {
    this.props.onReset();
    this.setState({ error: undefined });
  }

  override render(): ReactNode {
    const { error } = this.state;
    if (error === undefined) return this.props.children;
    // Anything that is not authfetch's (a bug in a component) gets a neutral message: its text is not for users.
    const message = isAuthFetchError(error) ? error.userMessage : 'Something went wrong.';
    const action: UserAction = isAuthFetchError(error) ? error.action : 'retry';
    const label = ACTION_LABELS[action];
    return (
      <div role="alert" className="error" data-action={action} data-code={isAuthFetchError(error) ? error.code : 'unknown'}>
        <p>{message}</p>
        {label && (
          <button type="button" onClick={() => this.#act(action)}>
            {label}
          </button>
        )}
      </div>
    );
  }
}

/** An error boundary for one part of the page, reset together with the queries inside it. */
export function ErrorBoundary({ children, onSignIn }: { children: ReactNode; onSignIn: () => void }): ReactNode {
  return (
    <QueryErrorResetBoundary>
      {({ reset }) => (
        <Boundary onReset={reset} onSignIn={onSignIn}>
          {children}
        </Boundary>
      )}
    </QueryErrorResetBoundary>
  );
}
