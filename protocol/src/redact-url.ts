// Broker URLs may carry a user name and password (mqtt://user:secret@host): anything that shows
// or logs one, on either side, shows it through this.

/** The URL without its credentials, and without a trailing slash. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.username || u.password) {
      u.username = '';
      u.password = '';
    }
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/\/\/[^@/]*@/, '//');
  }
}
