/** A spinner for work in progress (a diff being computed, a chunk decoded). */
import { Text } from "ink";
import { useEffect, useState } from "react";
import { safe } from "./Text.js";
import { tone, type Theme } from "./theme.js";

const FRAMES = ["|", "/", "-", "\\"];

export function Spinner({ theme, label }: { theme: Theme; label: string }) {
  const [i, setI] = useState(0);
  useEffect(() => {
    const t = setInterval(() => setI((n) => (n + 1) % FRAMES.length), 120);
    return () => clearInterval(t);
  }, []);
  return (
    <Text {...tone(theme, "pending")}>
      {FRAMES[i]} {safe(label)}
    </Text>
  );
}
