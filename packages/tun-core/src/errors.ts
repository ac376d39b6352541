// The small set of typed errors every tunkit package throws. Each carries a stable `code`
// so callers can branch without parsing messages; messages name the bad value and the fix.

/** Base class of every tunkit error. */
export class TunError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** The device or channel was closed; the operation cannot proceed. */
export class TunClosedError extends TunError {
  constructor(what = 'device', options?: ErrorOptions) {
    super('ERR_TUN_CLOSED', `the ${what} is closed`, options);
  }
}

/** An option or argument is invalid (bad CIDR, MTU out of range, missing platform package, misuse). */
export class TunConfigError extends TunError {}

/** A packet was refused: empty, too large, or not an IPv4/IPv6 packet. */
export class TunPacketError extends TunError {}

/** An operating-system call failed. `errno` is the symbolic name (e.g. "EPERM"). */
export class TunOsError extends TunError {
  readonly errno: string;
  readonly syscall: string;
  constructor(errno: string, syscall: string, message: string, options?: ErrorOptions) {
    super(`ERR_TUN_OS_${errno}`, message, options);
    this.errno = errno;
    this.syscall = syscall;
  }
}
