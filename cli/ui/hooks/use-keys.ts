/**
 * Ink's useInput, one key at a time. A terminal delivers keys typed fast, held
 * down or sent over a slow link in one read ("jj", "j j j j\r"), and Ink hands
 * such a burst to useInput as one string, which no `input === "j"` matches.
 * Here a burst is split into its keys (splitKeys, pure) and they are handled
 * one per render, so each key sees the state the keys before it left (`j j
 * Enter` opens the commit two rows down, not the one selected before), on
 * the screen it left (`Enter i`: the review, then its value map).
 */
import { type Key, useInput } from "ink";
import { createContext, useContext, useEffect, useMemo, useRef, useState } from "react";

export type KeyHandler = (input: string, key: Key) => void;

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/** One character of a burst as Ink would have reported it alone. */
function one(ch: string): [string, Key] {
  const code = ch.codePointAt(0) ?? 0;
  if (ch === "\r" || ch === "\n") return ["", { ...NO_KEY, return: true }];
  if (ch === "\t") return ["", { ...NO_KEY, tab: true }];
  if (ch === "\x7f" || ch === "\b") return ["", { ...NO_KEY, backspace: true }];
  if (code < 0x20) return [String.fromCharCode(code + 96), { ...NO_KEY, ctrl: true }]; // Ctrl+letter
  return [ch, { ...NO_KEY, shift: /[A-Z]/.test(ch) }];
}

/**
 * The keys of one input event. An event Ink recognised as a key (an arrow, a
 * modifier, Enter alone) or a single character is one key; a run of plain
 * characters without any escape (Ink splits escape sequences off already) is
 * one key per character.
 */
export function splitKeys(input: string, key: Key): [string, Key][] {
  const chars = [...input];
  const named = Object.entries(key).some(([k, v]) => v === true && k !== "shift");
  if (chars.length <= 1 || named || input.includes("\x1b")) return [[input, key]];
  return chars.map(one);
}

/**
 * One reader of the terminal for the whole app: it splits bursts and hands
 * each key to every handler registered now, one key per render. A key that
 * opens another screen is therefore followed by the next key on that screen
 * (`Enter i` opens a commit, then its value map): the new screen's handler
 * registers in its effect, which React runs before the app's.
 */
export interface KeyBus {
  add(handler: { current: KeyHandler }): () => void;
}

export const KeyBusContext = createContext<KeyBus | null>(null);

/** The app's key bus (App calls this once and provides it). */
export function useKeyBus(): KeyBus {
  const handlers = useRef(new Set<{ current: KeyHandler }>());
  const queue = useRef<[string, Key][]>([]);
  const [turn, setTurn] = useState(0);
  const deliver = ([input, key]: [string, Key]) => {
    for (const h of [...handlers.current]) h.current(input, key);
  };
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs once per render asked for by a queued key (turn), which it does not read
  useEffect(() => {
    const next = queue.current.shift();
    if (!next) return;
    deliver(next);
    if (queue.current.length > 0) setTurn((t) => t + 1);
  }, [turn]);
  useInput((input, key) => {
    const keys = splitKeys(input, key);
    if (queue.current.length > 0) {
      queue.current.push(...keys); // behind the keys still waiting
      return;
    }
    const [first, ...rest] = keys;
    if (first) deliver(first);
    if (rest.length > 0) {
      queue.current.push(...rest);
      setTurn((t) => t + 1);
    }
  });
  return useMemo(
    () => ({
      add(handler) {
        handlers.current.add(handler);
        return () => {
          handlers.current.delete(handler);
        };
      },
    }),
    [],
  );
}

/** Keys for one screen or hook: through the app's key bus (`bus`, else the one in context). */
export function useKeys(handler: KeyHandler, bus?: KeyBus): void {
  const fromContext = useContext(KeyBusContext);
  const b = bus ?? fromContext;
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => (b ? b.add(latest) : undefined), [b]);
}
