/**
 * A mistake the user can fix (a folder that already holds a config, a file that is not OPML): its message names what
 * and where and says what to do, and the command line prints it as one line without a stack trace.
 */
export class UserError extends Error {
  override name = 'UserError';
}
