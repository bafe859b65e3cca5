/**
 * Redis-style log lines: `<pid>:M <dd Mon yyyy hh:mm:ss.mmm> <level> <message>`, level marks
 * `.` debug, `-` verbose, `*` notice, `#` warning (as redis-server prints them). Where the line goes
 * is the host's (stdout or a file in Node, the console in a worker, UART on a device).
 */
export type LogLevel = 'debug' | 'verbose' | 'notice' | 'warning';

const RANK: Record<LogLevel, number> = { debug: 0, verbose: 1, notice: 2, warning: 3 };
const MARK: Record<LogLevel, string> = { debug: '.', verbose: '-', notice: '*', warning: '#' };
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

function stamp(d: Date): string {
  return (
    `${pad(d.getDate())} ${MONTHS[d.getMonth()]} ${d.getFullYear()} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`
  );
}

export function isLogLevel(s: string): s is LogLevel {
  return s in RANK;
}

export class Logger {
  level: LogLevel = 'notice';

  /** `sink(line)` receives each formatted line, newline included; `pid` prefixes it. */
  constructor(
    public sink: (line: string) => void = () => {},
    public pid: number | string = 0,
  ) {}

  log(level: LogLevel, msg: string): void {
    if (RANK[level] < RANK[this.level]) return;
    try {
      this.sink(`${this.pid}:M ${stamp(new Date())} ${MARK[level]} ${msg}\n`);
    } catch {
      // the sink is gone (EPIPE, unwritable log file): nothing sensible to do
    }
  }

  debug(msg: string): void {
    this.log('debug', msg);
  }
  verbose(msg: string): void {
    this.log('verbose', msg);
  }
  notice(msg: string): void {
    this.log('notice', msg);
  }
  warn(msg: string): void {
    this.log('warning', msg);
  }
}

/** A logger that drops everything (in-process engines log nothing unless asked). */
export const silentLog = new Logger();

/** "1.5 MB"-style sizes for log lines. */
export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1048576).toFixed(1)} MB`;
  return `${(n / 1073741824).toFixed(2)} GB`;
}
