// Errors the user can act on. The CLI prints `charrnn: <message>` on one line and exits with
// `exitCode`; anything else is an internal error (one line plus a hint to rerun with --debug).

export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'UserError';
  }
}
