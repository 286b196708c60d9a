/**
 * Entry: one QueryClient whose retry policy reads authfetch's typed errors, one auth client, and the app.
 */
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { AuthProvider } from 'authfetch/react';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App';
import { auth } from './auth';
import { retryDelay, shouldRetry } from './retry';

const queryClient = new QueryClient({
  defaultOptions: {
    queries: { retry: shouldRetry, retryDelay, staleTime: 0, gcTime: 0 },
    mutations: { retry: shouldRetry, retryDelay },
  },
});

// A sign-in or a sign-out, here or in another tab: data fetched for the former session must not be shown.
auth.on('login', () => queryClient.clear());
auth.on('logout', () => queryClient.clear());

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <AuthProvider client={auth}>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </AuthProvider>
  </StrictMode>,
);
