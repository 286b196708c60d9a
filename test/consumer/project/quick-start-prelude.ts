// The app-side functions the README's quick start calls, as an app would have them (prepended to the snippet).
const showSignIn = (): void => void document.body.setAttribute('data-view', 'sign-in');
const showToast = (text: string): void => void (document.body.textContent = text);
const render = (value: unknown): void => void (document.body.textContent = JSON.stringify(value));
const askUserToSignIn = async (): Promise<{ access_token: string; refresh_token: string; expires_in: number }> => {
  const answer = await fetch('/sign-in', { method: 'POST' });
  return (await answer.json()) as { access_token: string; refresh_token: string; expires_in: number };
};
