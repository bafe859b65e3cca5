// The command table: name, arity, flags and key positions, as in Redis 7.0's commands/*.json.
import { Command, register, registerSub, CMD_WRITE, CMD_DENYOOM, CMD_READONLY, CMD_BLOCKING, CMD_FAST, CMD_ADMIN, CMD_NOSCRIPT, CMD_LOADING, CMD_STALE, CMD_NO_AUTH, CMD_NOT_QUEUED, CMD_NO_MULTI } from "../server/dispatch";
import { xaddCommand, xtrimCommand } from "./xadd";
import { xrangeCommand, xrevrangeCommand, xlenCommand, xdelCommand } from "./xrange";
import { xreadCommand, xreadgroupCommand, registerServe } from "./xread";
import { xinfoStreamCommand, xinfoHelpCommand, xsetidCommand, xinfoGroupsCommand, xinfoConsumersCommand, registerGroupInfo } from "./xinfo";
import { xgroupCreateCommand, xgroupSetidCommand, xgroupDestroyCommand, xgroupCreateconsumerCommand, xgroupDelconsumerCommand, xgroupHelpCommand } from "./xgroup";
import { xackCommand, xpendingCommand, xclaimCommand, xautoclaimCommand } from "./xack";
import { delCommand, unlinkCommand, existsCommand, typeCommand, keysCommand, scanCommand, dbsizeCommand, flushdbCommand, flushallCommand, renameCommand, selectCommand, setCommand, getCommand } from "./keyspace";
import { pingCommand, echoCommand, quitCommand, helloCommand, clientIdCommand, clientSetnameCommand, clientGetnameCommand, clientSetinfoCommand } from "./connection";
import { configGetCommand, configSetCommand, configResetstatCommand, configHelpCommand } from "./config";
import { snapshotHeaderCommand, saveCommand, bgsaveCommand, bgrewriteaofCommand, lastsaveCommand } from "./persistence";
import { xdelexCommand, xackdelCommand, xnackCommand, xcfgsetCommand } from "./reliability";
import { infoCommand, clientListCommand, clientInfoCommand, clientKillCommand, clientUnblockCommand, clientOnOffCommand, commandCommand, commandCountCommand, commandInfoCommand, commandDocsCommand, commandListCommand, authCommand, timeCommand, resetCommand, shutdownCommand, registerServerStats } from "./server";
import { multiCommand, execCommand, discardCommand } from "./multi";
import { functionListCommand, functionFlushCommand, functionStatsCommand, functionDumpCommand, functionDeleteCommand, functionKillCommand,
  functionLoadCommand, functionRestoreCommand, functionHelpCommand, fcallCommand } from "./functions";

import { Client } from "../server/client";
import { Args } from "../resp/args";
function noopContainer(c: Client, a: Args): void {}

export function registerCommands(): void {
  const W_ = CMD_WRITE, OOM = CMD_DENYOOM, RO = CMD_READONLY, F = CMD_FAST;
  register(new Command("xadd", -5, W_ | OOM | F, xaddCommand, 1, 1, 1, "stream"));
  register(new Command("xtrim", -4, W_, xtrimCommand, 1, 1, 1, "stream"));
  register(new Command("xdel", -3, W_ | F, xdelCommand, 1, 1, 1, "stream"));
  register(new Command("xlen", 2, RO | F, xlenCommand, 1, 1, 1, "stream"));
  register(new Command("xrange", -4, RO, xrangeCommand, 1, 1, 1, "stream"));
  register(new Command("xrevrange", -4, RO, xrevrangeCommand, 1, 1, 1, "stream"));
  register(new Command("xread", -4, RO | CMD_BLOCKING, xreadCommand, 0, 0, 0, "stream"));
  register(new Command("xsetid", -3, W_ | OOM | F, xsetidCommand, 1, 1, 1, "stream"));
  const xinfo = register(new Command("xinfo", -2, 0, noopContainer, 0, 0, 0, "stream"));
  registerSub(xinfo, new Command("stream", -3, RO, xinfoStreamCommand, 2, 2, 1, "stream"));
  registerSub(xinfo, new Command("help", 2, CMD_LOADING | CMD_STALE, xinfoHelpCommand, 0, 0, 0, "stream"));
  registerSub(xinfo, new Command("groups", 3, RO, xinfoGroupsCommand, 2, 2, 1, "stream"));
  registerSub(xinfo, new Command("consumers", 4, RO, xinfoConsumersCommand, 2, 2, 1, "stream"));
  register(new Command("xreadgroup", -7, W_ | CMD_BLOCKING, xreadgroupCommand, 0, 0, 0, "stream"));
  register(new Command("xack", -4, W_ | F, xackCommand, 1, 1, 1, "stream"));
  register(new Command("xpending", -3, RO, xpendingCommand, 1, 1, 1, "stream"));
  register(new Command("xclaim", -6, W_ | F, xclaimCommand, 1, 1, 1, "stream"));
  register(new Command("xautoclaim", -6, W_ | F, xautoclaimCommand, 1, 1, 1, "stream"));
  register(new Command("xdelex", -5, W_ | F, xdelexCommand, 1, 1, 1, "stream"));
  register(new Command("xackdel", -6, W_ | F, xackdelCommand, 1, 1, 1, "stream"));
  register(new Command("xnack", -7, W_ | F, xnackCommand, 1, 1, 1, "stream"));
  register(new Command("xcfgset", -2, W_ | F, xcfgsetCommand, 1, 1, 1, "stream"));
  const xgroup = register(new Command("xgroup", -2, 0, noopContainer, 0, 0, 0, "stream"));
  registerSub(xgroup, new Command("create", -5, W_ | OOM, xgroupCreateCommand, 2, 2, 1, "stream"));
  registerSub(xgroup, new Command("setid", -5, W_, xgroupSetidCommand, 2, 2, 1, "stream"));
  registerSub(xgroup, new Command("destroy", 4, W_, xgroupDestroyCommand, 2, 2, 1, "stream"));
  registerSub(xgroup, new Command("createconsumer", 5, W_ | OOM, xgroupCreateconsumerCommand, 2, 2, 1, "stream"));
  registerSub(xgroup, new Command("delconsumer", 5, W_, xgroupDelconsumerCommand, 2, 2, 1, "stream"));
  registerSub(xgroup, new Command("help", 2, CMD_LOADING | CMD_STALE, xgroupHelpCommand, 0, 0, 0, "stream"));
  registerGroupInfo();

  register(new Command("del", -2, W_, delCommand, 1, -1, 1, "keyspace"));
  register(new Command("unlink", -2, W_ | F, unlinkCommand, 1, -1, 1, "keyspace"));
  register(new Command("exists", -2, RO | F, existsCommand, 1, -1, 1, "keyspace"));
  register(new Command("type", 2, RO | F, typeCommand, 1, 1, 1, "keyspace"));
  register(new Command("keys", 2, RO, keysCommand, 0, 0, 0, "keyspace"));
  register(new Command("scan", -2, RO, scanCommand, 0, 0, 0, "keyspace"));
  register(new Command("dbsize", 1, RO | F, dbsizeCommand, 0, 0, 0, "server"));
  register(new Command("flushdb", -1, W_, flushdbCommand, 0, 0, 0, "server"));
  register(new Command("flushall", -1, W_, flushallCommand, 0, 0, 0, "server"));
  register(new Command("rename", 3, W_, renameCommand, 1, 2, 1, "keyspace"));
  register(new Command("select", 2, CMD_LOADING | CMD_STALE | F, selectCommand, 0, 0, 0, "connection"));
  register(new Command("set", -3, W_ | OOM, setCommand, 1, 1, 1, "string"));
  register(new Command("get", 2, RO | F, getCommand, 1, 1, 1, "string"));

  register(new Command("ping", -1, F | CMD_STALE, pingCommand, 0, 0, 0, "connection"));
  register(new Command("echo", 2, F | CMD_STALE, echoCommand, 0, 0, 0, "connection"));
  register(new Command("quit", -1, CMD_NO_AUTH | CMD_NOT_QUEUED | CMD_LOADING | CMD_STALE | F, quitCommand, 0, 0, 0, "connection"));
  register(new Command("hello", -1, CMD_NO_AUTH | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | F, helloCommand, 0, 0, 0, "connection"));
  const client = register(new Command("client", -2, 0, noopContainer, 0, 0, 0, "connection"));
  registerSub(client, new Command("id", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientIdCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("setname", 3, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientSetnameCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("getname", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientGetnameCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("list", -2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientListCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("info", 2, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientInfoCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("kill", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientKillCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("unblock", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientUnblockCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("no-evict", 3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientOnOffCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("no-touch", 3, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientOnOffCommand, 0, 0, 0, "connection"));
  registerSub(client, new Command("setinfo", 4, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, clientSetinfoCommand, 0, 0, 0, "connection"));

  const config = register(new Command("config", -2, 0, noopContainer, 0, 0, 0, "server"));
  registerSub(config, new Command("get", -3, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, configGetCommand, 0, 0, 0, "server"));
  registerSub(config, new Command("set", -4, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, configSetCommand, 0, 0, 0, "server"));
  registerSub(config, new Command("resetstat", 2, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE, configResetstatCommand, 0, 0, 0, "server"));
  registerSub(config, new Command("help", 2, CMD_LOADING | CMD_STALE, configHelpCommand, 0, 0, 0, "server"));

  register(new Command("multi", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | F | CMD_NOT_QUEUED, multiCommand, 0, 0, 0, "transactions"));
  register(new Command("exec", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NOT_QUEUED, execCommand, 0, 0, 0, "transactions"));
  register(new Command("discard", 1, CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | F | CMD_NOT_QUEUED, discardCommand, 0, 0, 0, "transactions"));

  register(new Command("info", -1, CMD_LOADING | CMD_STALE, infoCommand, 0, 0, 0, "server"));
  const command = register(new Command("command", -1, CMD_LOADING | CMD_STALE, commandCommand, 0, 0, 0, "server"));
  registerSub(command, new Command("count", 2, CMD_LOADING | CMD_STALE, commandCountCommand, 0, 0, 0, "server"));
  registerSub(command, new Command("info", -2, CMD_LOADING | CMD_STALE, commandInfoCommand, 0, 0, 0, "server"));
  registerSub(command, new Command("docs", -2, CMD_LOADING | CMD_STALE, commandDocsCommand, 0, 0, 0, "server"));
  registerSub(command, new Command("list", -2, CMD_LOADING | CMD_STALE, commandListCommand, 0, 0, 0, "server"));
  register(new Command("auth", -2, CMD_NO_AUTH | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | F, authCommand, 0, 0, 0, "connection"));
  register(new Command("time", 1, CMD_LOADING | CMD_STALE | F, timeCommand, 0, 0, 0, "server"));
  register(new Command("reset", 1, CMD_NO_AUTH | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | F | CMD_NOT_QUEUED, resetCommand, 0, 0, 0, "connection"));
  register(new Command("shutdown", -1, CMD_ADMIN | CMD_NOSCRIPT | CMD_LOADING | CMD_STALE | CMD_NO_AUTH, shutdownCommand, 0, 0, 0, "server"));
  register(new Command("save", 1, CMD_ADMIN | CMD_NOSCRIPT | CMD_NO_MULTI, saveCommand, 0, 0, 0, "server"));
  register(new Command("bgsave", -1, CMD_ADMIN | CMD_NOSCRIPT, bgsaveCommand, 0, 0, 0, "server"));
  register(new Command("bgrewriteaof", 1, CMD_ADMIN | CMD_NOSCRIPT, bgrewriteaofCommand, 0, 0, 0, "server"));
  register(new Command("lastsave", 1, CMD_LOADING | CMD_STALE | F, lastsaveCommand, 0, 0, 0, "server"));
  registerServerStats();
  register(new Command("rivulet.snapshot", 3, CMD_LOADING | CMD_STALE | CMD_NOSCRIPT, snapshotHeaderCommand, 0, 0, 0, "server"));
  registerServe();

  const fn = register(new Command("function", -2, 0, noopContainer, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("delete", 3, W_ | CMD_NOSCRIPT, functionDeleteCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("dump", 2, CMD_NOSCRIPT, functionDumpCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("flush", -2, W_ | CMD_NOSCRIPT, functionFlushCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("help", 2, CMD_LOADING | CMD_STALE, functionHelpCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("kill", 2, CMD_NOSCRIPT, functionKillCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("list", -2, CMD_NOSCRIPT, functionListCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("load", -3, W_ | OOM | CMD_NOSCRIPT, functionLoadCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("restore", -3, W_ | OOM | CMD_NOSCRIPT, functionRestoreCommand, 0, 0, 0, "scripting"));
  registerSub(fn, new Command("stats", 2, CMD_NOSCRIPT, functionStatsCommand, 0, 0, 0, "scripting"));
  register(new Command("fcall", -3, CMD_NOSCRIPT | CMD_STALE, fcallCommand, 0, 0, 0, "scripting"));
  register(new Command("fcall_ro", -3, CMD_NOSCRIPT | CMD_STALE, fcallCommand, 0, 0, 0, "scripting"));
}
