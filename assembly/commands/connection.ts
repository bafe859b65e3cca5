// Connection commands: PING ECHO HELLO QUIT CLIENT.
import { Args } from "../resp/args";
import { Client } from "../server/client";
import * as W from "../resp/writer";
import { replyError } from "../server/dispatch";
import { parseI64, parsedI64 } from "../util/numbers";
import { syntaxError } from "./common";
import { helloAuth } from "./server";

export const REDIS_VERSION = "7.0.15";

// PING [message]
export function pingCommand(c: Client, a: Args): void {
  if (a.count > 2) { replyError("ERR wrong number of arguments for 'ping' command"); return; }
  if (a.count == 1) W.simple("PONG"); else W.bulk(a.ptr(1), a.len(1));
}

// ECHO message
export function echoCommand(c: Client, a: Args): void { W.bulk(a.ptr(1), a.len(1)); }

// QUIT
export function quitCommand(c: Client, a: Args): void {
  W.ok();
  c.closeAfterReply = true;
}

// HELLO [protover [AUTH username password] [SETNAME clientname]]
export function helloCommand(c: Client, a: Args): void {
  let ver: i64 = 0;
  let next = 1;
  if (a.count >= 2) {
    if (!parseI64(a.ptr(1), a.len(1))) { replyError("ERR Protocol version is not an integer or out of range"); return; }
    ver = parsedI64;
    next = 2;
    if (ver < 2 || ver > 3) { replyError("NOPROTO unsupported protocol version"); return; }
  }
  let setName = -1;
  let authUser = -1;
  for (let j = next; j < a.count; j++) {
    const more = a.count - j - 1;
    if (a.is(j, "auth") && more >= 2) {
      authUser = j + 1;
      j += 2;
    } else if (a.is(j, "setname") && more >= 1) {
      setName = j + 1;
      j++;
    } else {
      W.errorBegin();
      W.errorText("ERR Syntax error in HELLO option '");
      W.errorBytes(a.ptr(j), a.len(j), 128);
      W.errorText("'");
      W.errorEnd();
      replyErrorCounted();
      return;
    }
  }
  if (authUser >= 0 && !helloAuth(c, a, authUser, authUser + 1)) return;
  if (!c.authenticated) { replyError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"); return; }
  if (setName >= 0) {
    if (!validClientName(a, setName)) return;
    c.name = a.str(setName);
  }
  if (ver != 0) c.resp = <i32>ver;
  W.setTarget(c.output, c.resp);
  W.mapLen(7);
  W.bulkAscii("server"); W.bulkAscii("redis");
  W.bulkAscii("version"); W.bulkAscii(REDIS_VERSION);
  W.bulkAscii("proto"); W.integer(c.resp);
  W.bulkAscii("id"); W.integer(c.id);
  W.bulkAscii("mode"); W.bulkAscii("standalone");
  W.bulkAscii("role"); W.bulkAscii("master");
  W.bulkAscii("modules"); W.arrayLen(0);
}

import { noteError } from "../server/dispatch";
function replyErrorCounted(): void { noteError("ERR"); }

function validClientName(a: Args, i: i32): bool {
  const p = a.ptr(i);
  for (let k = 0; k < a.len(i); k++) {
    const ch = load<u8>(p + <usize>k);
    if (ch < 33 || ch > 126) {
      replyError("ERR Client names cannot contain spaces, newlines or special characters.");
      return false;
    }
  }
  return true;
}

// CLIENT ID
export function clientIdCommand(c: Client, a: Args): void { W.integer(c.id); }

// CLIENT SETNAME connection-name
export function clientSetnameCommand(c: Client, a: Args): void {
  if (!validClientName(a, 2)) return;
  c.name = a.str(2);
  W.ok();
}

// CLIENT GETNAME
export function clientGetnameCommand(c: Client, a: Args): void {
  if (c.name.length == 0) W.nullBulk(); else W.bulkKey(c.name);
}

// CLIENT SETINFO <LIB-NAME libname | LIB-VER libver>
export function clientSetinfoCommand(c: Client, a: Args): void {
  if (a.is(2, "lib-name")) { if (!validClientName(a, 3)) return; c.libName = a.str(3); }
  else if (a.is(2, "lib-ver")) { if (!validClientName(a, 3)) return; c.libVer = a.str(3); }
  else {
    W.errorBegin(); W.errorText("ERR Unrecognized option '"); W.errorBytes(a.ptr(2), a.len(2), 128); W.errorText("'"); W.errorEnd();
    replyErrorCounted();
    return;
  }
  W.ok();
}

export { syntaxError };
