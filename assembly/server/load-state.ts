// What a loading connection did with its input (reported by rv_load_status as a LoadStatus record).
// Offsets count input bytes fed since rv_set_loading(conn, 1).
export class LoadState {
  /** Bytes consumed by complete commands. */
  consumed: i64 = 0;
  commands: i64 = 0;
  /** Offset of the MULTI still open, or -1. */
  multiStart: i64 = -1;
  errors: i64 = 0;
  /** Offset of the first command whose reply was (or held) an error, or -1; its text. */
  firstErrorAt: i64 = -1;
  errorText: StaticArray<u8> = new StaticArray<u8>(0);
  /** Offset of invalid input, or -1; its text. */
  protocolErrorAt: i64 = -1;
  protocolErrorText: string = "";
  /** NUL bytes after the last complete command. */
  nulTail: i64 = 0;
}
