/** What the receiver needs from an HTTP request, so the route handler and a bare node server share it. */
export type ReceiverRequest = {
  header(name: string): string | null;
  headerEntries(): Iterable<[string, string]>;
  contentLength: number | null;
  /** Reads at most `limit` bytes; resolves 'too_large' as soon as more arrive. */
  readBody(limit: number): Promise<Uint8Array | 'too_large'>;
  /** performance.now() when the request arrived. */
  startedAt: number;
  /** The peer's address as the socket saw it; null when the server does not tell. */
  clientAddress: string | null;
};

export type ReceiverResponse = {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
  /** Refused before the body was read: close the connection rather than read what follows. */
  bodyUnread?: true;
};
