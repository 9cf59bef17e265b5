/** The command line registers only the command typed: each name in the registry must be the command its function registers. */
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { COMMANDS, commandsFor } from "../../cli/main.js";

const argv = (...args: string[]): string[] => ["node", "tdv", ...args];

describe("the command registry", () => {
  it("each entry registers exactly the command of its name, and no name repeats", () => {
    const names = new Set<string>();
    for (const [name, register] of COMMANDS) {
      const program = new Command();
      register(program);
      expect(program.commands.map((c) => c.name()), name).toEqual([name]);
      expect(names.has(name), name).toBe(false);
      names.add(name);
    }
  });

  it("a command line naming a command registers that one; the version none; help, a mistyped name or nothing all", () => {
    expect(commandsFor(argv("status", "--json")).map(([n]) => n)).toEqual(["status"]);
    expect(commandsFor(argv("ls-remote", "origin")).map(([n]) => n)).toEqual(["ls-remote"]);
    expect(commandsFor(argv("--version"))).toEqual([]);
    expect(commandsFor(argv("-V"))).toEqual([]);
    for (const other of [argv("--help"), argv("help", "status"), argv("stauts"), argv(), argv("-h")]) expect(commandsFor(other)).toBe(COMMANDS);
  });
});
