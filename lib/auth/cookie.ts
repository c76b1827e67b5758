// No imports: proxy.ts reads this, and must not pull the database into its bundle.
export const SESSION_COOKIE = 'skylight_session';
