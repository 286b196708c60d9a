/**
 * A port on 127.0.0.1 where nothing listens (a server is opened on port 0 and closed again): a request there fails
 * at once with a connection refusal, a network failure without waiting for any timeout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A closed port on 127.0.0.1. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
