/** The terminal's size, following resizes (a fixed size when given, for tests). */
import { useStdout } from "ink";
import { useEffect, useState } from "react";

export interface Size {
  width: number;
  height: number;
}

export function useTerminalSize(fixed?: Size): Size {
  const { stdout } = useStdout();
  const read = (): Size => ({ width: stdout.columns || 80, height: stdout.rows || 24 });
  const [size, setSize] = useState<Size>(fixed ?? read());
  // biome-ignore lint/correctness/useExhaustiveDependencies: keyed by the fixed size's values, not by its object (a new one at each render)
  useEffect(() => {
    if (fixed) {
      setSize(fixed);
      return;
    }
    const onResize = () => setSize(read());
    stdout.on("resize", onResize);
    return () => {
      stdout.off("resize", onResize);
    };
  }, [stdout, fixed?.width, fixed?.height]);
  return size;
}
