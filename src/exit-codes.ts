// sysexits.h values as Postfix pipe(8) reads them (pipe_command.c, sys_exits.c).
// Only TEMPFAIL (75) and OSERR (71) defer; every other non-zero status bounces, Node's crash code 1 included.
export const ExitCode = {
  ok: 0,
  usage: 64, // admin/hand use only: a wrong command line
  unavailable: 69, // bounces (5.3.0): only for a deliberate policy rejection
  software: 70, // admin only: a bug
  tempFail: 75, // defers (4.3.0): Postfix keeps the mail and retries; the default for anything unexpected
  config: 78, // admin only: the configuration is invalid
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
